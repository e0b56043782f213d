import type { HistoryTurn } from "../agents/index.js";

/**
 * Recent exchanges per session, bounded twice: the last `turns` per session, and at most `sessions`
 * sessions (the least recently used is forgotten first). Memory stays bounded however many clients come.
 */
export class SessionHistory {
  readonly #sessions = new Map<string, HistoryTurn[]>();
  readonly #turns: number;
  readonly #maxSessions: number;

  constructor({ turns = 4, sessions = 10_000 }: { turns?: number; sessions?: number } = {}) {
    this.#turns = turns;
    this.#maxSessions = sessions;
  }

  get(sessionId: string): HistoryTurn[] {
    return [...(this.#sessions.get(sessionId) ?? [])];
  }

  add(sessionId: string, turn: HistoryTurn): void {
    const list = this.#sessions.get(sessionId) ?? [];
    this.#sessions.delete(sessionId);
    list.push(turn);
    if (list.length > this.#turns) list.splice(0, list.length - this.#turns);
    this.#sessions.set(sessionId, list);
    if (this.#sessions.size > this.#maxSessions) this.#sessions.delete(this.#sessions.keys().next().value!);
  }

  get size(): number {
    return this.#sessions.size;
  }
}
