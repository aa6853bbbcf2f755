import { describe, expect, it } from "vitest";
import { acquireToken, hashWithoutToken, tokenFromHash } from "../src/token";

function memoryStorage() {
  const m = new Map<string, string>();
  return {
    getItem: (k: string) => m.get(k) ?? null,
    setItem: (k: string, v: string) => void m.set(k, v),
  };
}

describe("token from the URL fragment", () => {
  it("parses #token= alone or among other parameters", () => {
    expect(tokenFromHash("#token=abc-_123")).toBe("abc-_123");
    expect(tokenFromHash("#x=1&token=t")).toBe("t");
    expect(tokenFromHash("")).toBeNull();
    expect(tokenFromHash("#token=")).toBeNull();
  });

  it("removes only the token from the fragment", () => {
    expect(hashWithoutToken("#token=abc")).toBe("");
    expect(hashWithoutToken("#x=1&token=abc")).toBe("#x=1");
  });

  it("stores the token and scrubs it from the address bar", () => {
    const storage = memoryStorage();
    const urls: string[] = [];
    const history = {
      replaceState: (_d: unknown, _u: string, url?: string) => void urls.push(url ?? ""),
    };
    const loc = { hash: "#token=secret", pathname: "/user/x/proxy/8888/", search: "?a=1" };
    expect(acquireToken(loc, history, storage)).toBe("secret");
    expect(urls).toEqual(["/user/x/proxy/8888/?a=1"]);
    // A reload of the same tab finds it in sessionStorage.
    expect(acquireToken({ ...loc, hash: "" }, history, storage)).toBe("secret");
    expect(urls).toHaveLength(1);
  });

  it("returns null without a token anywhere", () => {
    const history = { replaceState: () => undefined };
    expect(
      acquireToken({ hash: "", pathname: "/", search: "" }, history, memoryStorage()),
    ).toBeNull();
  });
});
