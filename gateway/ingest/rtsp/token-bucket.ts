// A token bucket holding at most one second's worth: catch-up decodes on activity onset are
// bounded per gateway, so a door slammed on every camera at once is not a burst of GOP decodes.

export interface TokenBucket {
  /** True when a token is there now (refilled by the time passed). */
  available(): boolean;
  take(): void;
}

export function createTokenBucket(perS: number, now: () => number = Date.now): TokenBucket {
  let tokens = perS;
  let at = now();
  return {
    available() {
      const t = now();
      tokens = Math.min(perS, tokens + ((t - at) / 1000) * perS);
      at = t;
      return tokens >= 1;
    },
    take() {
      tokens -= 1;
    },
  };
}
