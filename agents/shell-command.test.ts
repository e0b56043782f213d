import { describe, expect, it } from "vitest";
import { checkShellCommand, commandsIn, renderTldrCommand, sameCommand } from "./shell-command.js";

describe("renderTldrCommand", () => {
  it("writes tldr syntax as a person types it: the first option spelling, placeholders as plain values", () => {
    expect(renderTldrCommand("tar xf {{path/to/source.tar[.gz|.bz2|.xz]}} {{[-C|--directory]}} {{path/to/directory}}")).toBe("tar xf path/to/source.tar.gz -C path/to/directory");
    expect(renderTldrCommand("ls {{[-d|--directory]}} */")).toBe("ls -d */");
    expect(renderTldrCommand("tar czf {{path/to/target.tar.gz}} {{path/to/file1 path/to/file2 ...}}")).toBe("tar czf path/to/target.tar.gz path/to/file1 path/to/file2");
    expect(renderTldrCommand('tar xf {{path/to/source.tar}} --wildcards "{{*.html}}"')).toBe('tar xf path/to/source.tar --wildcards "*.html"');
    expect(renderTldrCommand("ls [-d|--directory] */")).toBe("ls -d */");
    expect(renderTldrCommand("alr init {{--bin|--lib}} {{project_name}}")).toBe("alr init --bin project_name");
  });
});

describe("checkShellCommand", () => {
  it.each([
    "tar xzf path/to/target.tar.gz",
    "sudo ss -tulpn | grep 8080",
    "find . -name '*.txt' -exec rm {} \\;",
    "du -h --max-depth=1 ~ | sort -h",
    "FOO=1 make test && echo done",
    'awk \'{print $1}\' file.txt 2>&1',
    "find . \\( -name a -o -name b \\)",
    "echo $(date) > out.txt",
    "[ -f file ] && echo yes",
    "git log --oneline -n 5",
    "nohup path/to/script.sh &",
    "drop function name;",
    "command | base64 -d",
    "make |& tee build.log",
    ". path/to/venv/bin/activate",
    "$EDITOR file.txt",
    "command > out.txt 2>&1",
  ])("accepts %s", (command) => {
    expect(checkShellCommand(command)).toMatchObject({ success: true });
  });

  it.each([
    ["ls [-d|--directory] */", /alternatives/],
    ["tar xf {{path/to/file}}", /placeholder/],
    ['grep "unterminated file', /quote/],
    ["echo $(date", /unbalanced/],
    ["ls )", /unbalanced/],
    ["ls |", /ends in a pipe/],
    ["make &&", /ends in a pipe or `&&`/],
    ["| grep x", /no command before/],
    ["-C path", /not a command name/],
    ["", /empty/],
  ])("rejects %s", (command, reason) => {
    const check = checkShellCommand(command);
    expect(check.success).toBe(false);
    if (!check.success) expect(check.error).toMatch(reason);
  });

  it("names the command word after assignments and sudo", () => {
    expect(checkShellCommand("LANG=C sudo apt install vim")).toEqual({ success: true, value: { commandWord: "apt" } });
  });
});

describe("commandsIn", () => {
  it("takes command lines from code spans, not option or value spans", () => {
    expect(commandsIn("Extract: `tar -xzf backup.tar.gz` unpacks here, or elsewhere with `-C`.")).toEqual(["tar -xzf backup.tar.gz"]);
    expect(commandsIn("Run `lsblk` to see disks.")).toEqual(["lsblk"]);
    expect(commandsIn("`ls [-d|--directory] */` — list directories.")).toEqual(["ls [-d|--directory] */"]);
  });

  it("takes a bare command line as the command, never prose", () => {
    expect(commandsIn("ls -a")).toEqual(["ls -a"]);
    expect(commandsIn("Use the dir command.")).toEqual([]);
  });
});

describe("sameCommand", () => {
  it("is 1 for the same example, 0.8 for other values, 0 for other options or tools", () => {
    expect(sameCommand("tar xzf a.tar.gz", "tar xzf a.tar.gz")).toBe(1);
    expect(sameCommand("tar xzf a.tar.gz", "tar -x -z -f b.tgz")).toBe(0.8);
    expect(sameCommand("tar xzf a.tar.gz", "tar czf a.tar.gz")).toBe(0);
    expect(sameCommand("ssh -L 8080:localhost:80 alex@server", "sudo ss -tulpn | grep 8080")).toBe(0);
  });
});

describe("commandsIn: options quoted on their own", () => {
  it("an option span ('add `-C folder`') is not a command of the answer", () => {
    expect(commandsIn("Run `tar -xzf file.tar.gz`. Add `-C folder` to extract into another folder.")).toEqual(["tar -xzf file.tar.gz"]);
  });
});
