export interface CapItem {
  id: string;
  /** User id; anonymous items are capped per session instead. */
  userId: string;
  /** Unix ms. */
  createdAt: number;
}

export interface CapResult<T> {
  kept: T[];
  droppedPerDay: T[];
  droppedShare: T[];
  /** Whether the share cap applied (enough distinct users; see `minUsersForShare`). */
  shareApplied: boolean;
}

/**
 * Per-user caps, applied in input order (earlier items are kept first):
 * at most `maxPerUserPerDay` items per user per UTC day, then no user above `maxUserShare` of the final batch
 * (the largest contributors are trimmed until the share holds; every user keeps at least one item, so a
 * batch from fewer than 1/maxUserShare users can still exceed the share — the manifest shows it).
 * The share cap applies only when at least `minUsersForShare` distinct users contributed (default ⌈1 / maxUserShare⌉,
 * the fewest that can all meet the share): on a single-user install every item is 100 % one user's, and trimming
 * them would throw away the only feedback there is.
 */
export function applyUserCaps<T extends CapItem>({
  items,
  maxPerUserPerDay,
  maxUserShare,
  minUsersForShare = Math.ceil(1 / maxUserShare - 1e-9),
}: {
  items: readonly T[];
  maxPerUserPerDay: number;
  maxUserShare: number;
  /** @default ⌈1 / maxUserShare⌉ */
  minUsersForShare?: number;
}): CapResult<T> {
  const perDay = new Map<string, number>();
  const afterDay: T[] = [];
  const droppedPerDay: T[] = [];
  for (const item of items) {
    const key = `${item.userId}\u0000${new Date(item.createdAt).toISOString().slice(0, 10)}`;
    const count = perDay.get(key) ?? 0;
    if (count >= maxPerUserPerDay) droppedPerDay.push(item);
    else {
      perDay.set(key, count + 1);
      afterDay.push(item);
    }
  }

  const byUser = new Map<string, T[]>();
  for (const item of afterDay) {
    const list = byUser.get(item.userId);
    if (list) list.push(item);
    else byUser.set(item.userId, [item]);
  }
  if (byUser.size < minUsersForShare) return { kept: afterDay, droppedPerDay, droppedShare: [], shareApplied: false };
  // Largest cap c such that every user trimmed to c satisfies c <= share * total(c) (or c = 1).
  const counts = [...byUser.values()].map((list) => list.length);
  const totalWithCap = (cap: number) => counts.reduce((sum, n) => sum + Math.min(n, cap), 0);
  let cap = Math.max(...counts, 0);
  while (cap > 1 && cap > maxUserShare * totalWithCap(cap)) cap--;

  const keptIds = new Set<string>();
  const droppedShare: T[] = [];
  for (const list of byUser.values()) {
    list.slice(0, cap).forEach((item) => keptIds.add(item.id));
    droppedShare.push(...list.slice(cap));
  }
  return { kept: afterDay.filter((item) => keptIds.has(item.id)), droppedPerDay, droppedShare, shareApplied: true };
}
