import type { HistoryTurn } from "../agents/index.js";

/** Whose conversation: a session id is chosen by the client, so it only names a conversation within one user. */
export interface SessionKey {
  /** The user the turn was asked by; null for anonymous turns (the server gives those per-connection session ids). */
  userId: string | null;
  sessionId: string;
}

/**
 * Recent exchanges per (user, session), bounded twice: the last `turns` per session, and at most `sessions`
 * sessions (the least recently used is forgotten first). Memory stays bounded however many clients come.
 * Keyed by user as well as session, so one user sending another's session id starts an empty conversation
 * instead of reading the other's questions and answers.
 */
export class SessionHistory {
  readonly #sessions = new Map<string, HistoryTurn[]>();
  readonly #turns: number;
  readonly #maxSessions: number;

  constructor({ turns = 4, sessions = 10_000 }: { turns?: number; sessions?: number } = {}) {
    this.#turns = turns;
    this.#maxSessions = sessions;
  }

  get(key: SessionKey): HistoryTurn[] {
    return [...(this.#sessions.get(mapKey(key)) ?? [])];
  }

  add(key: SessionKey, turn: HistoryTurn): void {
    if (this.#turns === 0) return; // the answerer is given no history: keep none
    const id = mapKey(key);
    const list = this.#sessions.get(id) ?? [];
    this.#sessions.delete(id);
    list.push(turn);
    if (list.length > this.#turns) list.splice(0, list.length - this.#turns);
    this.#sessions.set(id, list);
    if (this.#sessions.size > this.#maxSessions) this.#sessions.delete(this.#sessions.keys().next().value!);
  }

  get size(): number {
    return this.#sessions.size;
  }
}

/** JSON of the pair: no separator a user or session id could contain can make two keys collide. */
function mapKey({ userId, sessionId }: SessionKey): string {
  return JSON.stringify([userId, sessionId]);
}
