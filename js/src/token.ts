// The access token (SPEC §3): taken from the URL fragment `#token=...`, removed from the address
// bar, kept in sessionStorage for reloads of the same tab.

const STORAGE_KEY = "dcmview.token";

/** The token in a URL fragment ("#token=abc" or "#a=1&token=abc"), or null. */
export function tokenFromHash(hash: string): string | null {
  const h = hash.startsWith("#") ? hash.slice(1) : hash;
  const value = new URLSearchParams(h).get("token");
  return value ? value : null;
}

/** The fragment with the token removed ("" when nothing else is left). */
export function hashWithoutToken(hash: string): string {
  const h = hash.startsWith("#") ? hash.slice(1) : hash;
  const params = new URLSearchParams(h);
  params.delete("token");
  const rest = params.toString();
  return rest ? `#${rest}` : "";
}

interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

interface LocationLike {
  hash: string;
  pathname: string;
  search: string;
}

interface HistoryLike {
  replaceState(data: unknown, unused: string, url?: string): void;
}

/**
 * Take the token from the fragment when present (and scrub it from the address bar), else from
 * storage. Returns null when there is none (the server may run with --no-token).
 */
export function acquireToken(
  loc: LocationLike,
  history: HistoryLike,
  storage: StorageLike | null,
): string | null {
  const fromHash = tokenFromHash(loc.hash);
  if (fromHash) {
    try {
      storage?.setItem(STORAGE_KEY, fromHash);
    } catch {
      // Storage can be disabled; the token still works for this page load.
    }
    history.replaceState(null, "", `${loc.pathname}${loc.search}${hashWithoutToken(loc.hash)}`);
    return fromHash;
  }
  try {
    return storage?.getItem(STORAGE_KEY) ?? null;
  } catch {
    return null;
  }
}
