import type { ChannelCredit } from './types.js';

/** Sums credit per channel, then lists every known channel (zero if uncredited). */
export class CreditSheet {
  private readonly sums = new Map<string, { conversions: number; value: number }>();

  add(channel: string, conversions: number, value: number): void {
    const s = this.sums.get(channel);
    if (s === undefined) this.sums.set(channel, { conversions, value });
    else {
      s.conversions += conversions;
      s.value += value;
    }
  }

  /** One credit per channel of `channels` (sorted), plus any credited channel not in it. */
  toCredits(channels: readonly string[]): ChannelCredit[] {
    const names = new Set(channels);
    for (const c of this.sums.keys()) names.add(c);
    return [...names]
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
      .map((channel) => {
        const s = this.sums.get(channel);
        return { channel, conversions: s?.conversions ?? 0, value: s?.value ?? 0 };
      });
  }
}

/** The credit of `channel` in `credits`, or zeros if it has none. */
export function creditOf(
  credits: { readonly credits: readonly ChannelCredit[] } | readonly ChannelCredit[],
  channel: string,
): ChannelCredit {
  const list = 'credits' in credits ? credits.credits : credits;
  return list.find((c) => c.channel === channel) ?? { channel, conversions: 0, value: 0 };
}
