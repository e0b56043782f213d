import { describe, expect, it } from "vitest";
import type { PassageHit } from "../../memory/index.js";
import { councilVote, type CriticJudge } from "./index.js";

/** Passages as the knowledge base (kb/*.md) holds them, in the order a search returned them. */
const hit = (id: string, title: string, text: string): PassageHit => ({ passage: { id, source: `${id}.md`, title, text }, score: 1 });
const PORT_PASSAGES = [
  hit("networking-qa", "Linux networking › Questions and answers", "Q: Which program is listening on port 8080?\nA: Run `sudo ss -tulpn | grep 8080`. The last column names the program and its PID."),
  hit("ssh-ports", "SSH › Connecting", "- `ssh -p 2222 alex@server.example.com` uses a port other than 22."),
  hit("ssh-tunnels", "SSH › Tunnels", "`ssh -L 8080:localhost:80 alex@server` makes the server's port 80 reachable on your own port 8080."),
];
const FILE_PASSAGES = [
  hit("files-qa", "Files and directories › Questions and answers", 'Q: How do I find all PDF files under my home folder?\nA: Run `find ~ -name "*.pdf"`. Use `-iname` instead of `-name` to ignore upper and lower case.'),
  hit("files-home", "Files and directories › Home", "Your own files are under your home directory, which the shell abbreviates as `~` (for example `/home/alex`)."),
];
const TAR_PASSAGES = [
  hit("tar", "tar", "E[x]tract a g[z]ipped archive [f]ile:\n`tar xzf {{path/to/target.tar.gz}}`"),
  hit("tar-create", "tar", "[c]reate a g[z]ipped archive and write it to a [f]ile:\n`tar czf {{path/to/target.tar.gz}} {{path/to/file1 path/to/file2 ...}}`"),
];

/** A model critic that approves everything: a wrong answer must still be rejected. */
const yesCritic: CriticJudge = async () => ({ score: 1, reasons: ["looks right"] });

describe("councilVote", () => {
  it.each([
    ["how do I see which process uses port 8080?", "`ssh -L 8080:localhost:80 alex@server` makes the server's port 80 reachable on your own port 8080.", PORT_PASSAGES],
    ["how do I find large files in my home directory", 'Run `find ~ -name "*.pdf"`. Use `-iname` instead of `-name` to ignore upper and lower case.', FILE_PASSAGES],
  ])("rejects a command from a passage about something else: %s", async (question, wrong, passages) => {
    for (const critic of [undefined, yesCritic]) {
      const vote = await councilVote({ question, candidates: [{ id: "wrong", text: wrong, source: "knowledge-base" }], passages, quorum: 2, ...(critic ? { critic } : {}) });
      expect(vote.accepted).toBe(false);
      const grounding = vote.ballots.find((ballot) => ballot.voter === "grounding")!;
      expect(grounding.score).toBeLessThan(0.6);
    }
  });

  it("accepts the command whose knowledge-base description is the question", async () => {
    const vote = await councilVote({
      question: "how do I extract a tar.gz archive",
      candidates: [
        { id: "create", text: "`tar czf path/to/target.tar.gz path/to/file1 path/to/file2` — create a gzipped archive and write it to a file.", source: "knowledge-base" },
        { id: "extract", text: "`tar xzf path/to/target.tar.gz` — extract a gzipped archive file.", source: "knowledge-base" },
      ],
      passages: TAR_PASSAGES,
      quorum: 2,
    });
    expect(vote).toMatchObject({ accepted: true, winnerId: "extract" });
    expect(vote.tally?.candidates.find((candidate) => candidate.candidateId === "create")?.supporters).toBeLessThan(2);
  });

  it("gives independent reasons: grounding judges the knowledge-base unit, intent the answer itself; no critic ballot without a model", async () => {
    const vote = await councilVote({ question: "how do I extract a tar.gz archive", candidates: [{ id: "a", text: "`tar xzf path/to/target.tar.gz` — extract a gzipped archive file.", source: "knowledge-base" }], passages: TAR_PASSAGES, quorum: 2 });
    const reasons = Object.fromEntries(vote.ballots.map((ballot) => [ballot.voter, ballot.reason]));
    expect(Object.keys(reasons).sort()).toEqual(["grounding", "intent"]);
    expect(reasons.grounding).toMatch(/knowledge base gives it for "Extract a gzipped archive file"/);
    expect(reasons.intent).not.toEqual(reasons.grounding);
  });

  it("counts identical candidates from two sources as one, with no peer ballot; another source's same command is a peer", async () => {
    const text = "`tar xzf path/to/target.tar.gz` — extract a gzipped archive file.";
    const same = await councilVote({
      question: "how do I extract a tar.gz archive",
      candidates: [{ id: "kb", text, source: "knowledge-base" }, { id: "llm", text, source: "llm" }],
      passages: TAR_PASSAGES,
      quorum: 2,
    });
    expect(same.excluded).toEqual([{ candidateId: "llm", reason: "same text as kb" }]);
    expect(same.ballots.filter((ballot) => ballot.voter === "peers")).toEqual([]);
    const agreeing = await councilVote({
      question: "how do I extract a tar.gz archive",
      candidates: [{ id: "kb", text, source: "knowledge-base" }, { id: "llm", text: "Run `tar xzf backup.tar.gz` in the folder.", source: "llm" }, { id: "kb2", text: "`tar xzf other.tgz`", source: "knowledge-base" }],
      passages: TAR_PASSAGES,
      quorum: 2,
    });
    const peers = agreeing.ballots.filter((ballot) => ballot.voter === "peers");
    expect(peers.map((ballot) => [ballot.candidateId, ballot.reason])).toEqual([
      ["kb", "the llm candidate gives the same command"],
      ["llm", "the knowledge-base candidate gives the same command"],
      ["kb2", "the llm candidate gives the same command"],
    ]);
  });

  it("keeps a candidate whose command does not parse off the ballot", async () => {
    const vote = await councilVote({
      question: "How do I list directories themselves, not their contents, using ls?",
      candidates: [{ id: "raw", text: "`ls [-d|--directory] */` — list directories themselves, not their contents.", source: "knowledge-base" }],
      passages: [hit("ls", "ls", "List directories themselves, not their contents:\n`ls {{[-d|--directory]}} */`")],
      quorum: 2,
    });
    expect(vote).toMatchObject({ accepted: false, winnerId: null, reason: "no candidate can stand" });
    expect(vote.excluded[0]!.reason).toMatch(/not a shell command: tldr option alternatives/);
  });
});
