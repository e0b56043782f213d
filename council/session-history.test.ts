import { describe, expect, it } from "vitest";
import { SessionHistory } from "./session-history.js";

const key = { userId: "alice", sessionId: "s1" };
const turn = (n: number) => ({ question: `q${n}`, answer: `a${n}` });

describe("SessionHistory", () => {
  it("keeps the last `turns` exchanges of a session", () => {
    const history = new SessionHistory({ turns: 2 });
    for (const n of [1, 2, 3]) history.add(key, turn(n));
    expect(history.get(key)).toEqual([turn(2), turn(3)]);
  });
  it("keeps nothing, and no session, when the answerer is given no history (turns 0)", () => {
    const history = new SessionHistory({ turns: 0 });
    history.add(key, turn(1));
    expect(history.get(key)).toEqual([]);
    expect(history.size).toBe(0);
  });
});
