/**
 * Token slots: the proxy reads route credentials from `EGRESS_PROXY_TOKEN_<n>`, never from
 * `routes.yaml`. Slots are numbered in order of first use of each `token_ref` across a bottle's
 * routes, so routes that share a secret share a slot, and the numbering is stable as long as
 * the order of first uses is.
 */
import { TOKEN_SLOT_PREFIX } from "./constants";

/** One slot: the proxy's env var name and the Pulumi config key that fills it. */
export interface TokenSlot {
  readonly slot: string;
  readonly tokenRef: string;
}

/** Assign slots by first use; a `token_ref` used twice gets the slot of its first use. */
export function assignTokenSlots(tokenRefs: ReadonlyArray<string | undefined>): TokenSlot[] {
  const slots: TokenSlot[] = [];
  const seen = new Set<string>();
  for (const ref of tokenRefs) {
    if (ref === undefined || seen.has(ref)) continue;
    seen.add(ref);
    slots.push({ slot: `${TOKEN_SLOT_PREFIX}${slots.length + 1}`, tokenRef: ref });
  }
  return slots;
}

/** The slot of each `token_ref`, for rendering routes. */
export function slotByRef(slots: ReadonlyArray<TokenSlot>): ReadonlyMap<string, string> {
  return new Map(slots.map((s) => [s.tokenRef, s.slot]));
}

/**
 * Problems that would make the proxy inject the wrong credential: a slot filled from two refs,
 * a ref split over two slots, a route naming a slot nobody fills, or a slot no route uses.
 * The two inputs come from different code paths (the env list and routes.yaml): this is where
 * they must agree.
 */
export function tokenSlotConflicts(slots: ReadonlyArray<TokenSlot>, slotsUsedByRoutes: ReadonlyArray<string>): string[] {
  const problems: string[] = [];
  const refOfSlot = new Map<string, string>();
  const slotOfRef = new Map<string, string>();
  for (const { slot, tokenRef } of slots) {
    const ref = refOfSlot.get(slot);
    if (ref !== undefined && ref !== tokenRef) problems.push(`${slot} would hold two secrets (${ref} and ${tokenRef})`);
    const other = slotOfRef.get(tokenRef);
    if (other !== undefined && other !== slot) problems.push(`${tokenRef} would fill two slots (${other} and ${slot})`);
    refOfSlot.set(slot, tokenRef);
    slotOfRef.set(tokenRef, slot);
  }
  const used = new Set(slotsUsedByRoutes);
  for (const slot of used) if (!refOfSlot.has(slot)) problems.push(`a route uses ${slot}, which no secret fills`);
  for (const slot of refOfSlot.keys()) if (!used.has(slot)) problems.push(`${slot} is filled but no route uses it`);
  return problems;
}
