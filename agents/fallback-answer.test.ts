import { describe, expect, it } from "vitest";
import type { PassageHit } from "../memory/types.js";
import { fallbackAnswer, pageName } from "./fallback-answer.js";

const hit = (id: string, title: string, text: string, score = 0.5): PassageHit => ({ passage: { id, source: `${id}.md`, title, text }, score });

describe("fallbackAnswer", () => {
  it("quotes the unit whose description answers the question, with its page", () => {
    const passages = [hit("tar", "tar", "- Extract a (compressed) archive file into the current directory:\n\n`tar xf {{path/to/source.tar[.gz|.bz2|.xz]}}`")];
    expect(fallbackAnswer("How do I extract a compressed archive file into the current directory using tar?", passages)).toEqual({
      answer: "From the tar page: `tar xf path/to/source.tar.gz` — extract a (compressed) archive file into the current directory.",
      page: "tar",
    });
  });

  it("says I don't know, naming the closest passage, when no unit answers the question (words in common are not enough)", () => {
    const passages = [hit("printing", "Printing › Badges", "- Badge not recognised: register it once by tapping it and entering your user name and password.")];
    const result = fallbackAnswer("How do I reset a user password?", passages);
    expect(result.answer).toMatch(/^I don't know for sure\. The closest note I have is the Printing page: /);
  });

  describe("with the knowledge base's word rarity (documentFrequency)", () => {
    // kb/'s Processes and Services pages as the hybrid ranker retrieves them for the port question; document
    // frequencies as on kb/ (295 passages): "port" 11, "process" 14, "find" 17.
    const frequency: Record<string, number> = { find: 17, process: 14, port: 11, uses: 53, stop: 29, program: 31, hangs: 2 };
    const documentFrequency = (word: string) => frequency[word] ?? 0;
    const processes = hit(
      "processes",
      "Processes: seeing, stopping and prioritising programs › Questions and answers",
      "Q: How do I find the process id of a program?\nA: Run `pgrep -a programname`, or `ps aux | grep programname`. The number in the PID column is the id.\n\nQ: How do I stop a program that is not responding?\nA: Find its PID with `pgrep -a name`, then run `kill PID`.",
    );
    const services = hit("services", "Services with systemd › Questions and answers", "Q: Why does my web service not start?\nA: Another program may already use its port. Run `systemctl status servicename` and read the last lines.");

    it("says I don't know rather than quote a unit that covers only the question's common words (`pgrep` for a port)", () => {
      const question = "how do I find which process uses a port?";
      // By word count alone `pgrep` covers 2 of find, process, port: that was the answer.
      expect(fallbackAnswer(question, [processes, services]).answer).toMatch(/^From the Processes page: Run `pgrep/);
      const result = fallbackAnswer(question, [processes, services], { documentFrequency });
      expect(result.answer).toMatch(/^I don't know for sure\. The closest note I have is the Processes page: /);
    });

    it("still quotes the unit that covers the distinctive word, and ignores a rare word no passage uses", () => {
      expect(fallbackAnswer("how do I stop a program that hangs?", [processes], { documentFrequency }).answer).toBe(
        "From the Processes page: Find its PID with `pgrep -a name`, then run `kill PID`.",
      );
    });
  });

  it("says I don't know when nothing was retrieved", () => {
    expect(fallbackAnswer("what is the capital of France?", [])).toEqual({ answer: expect.stringMatching(/^I don't know, and my notes have nothing on this yet/) });
  });

  it("names a page by its document title", () => {
    expect(pageName("Archives and compression: tar, gzip and zip › Questions and answers")).toBe("Archives and compression");
    expect(pageName("tar")).toBe("tar");
  });
});
