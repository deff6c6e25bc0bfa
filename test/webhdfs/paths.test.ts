// The path checks and encodings that every request goes through, against plain reference versions
// written here (split, check each segment, encodeURIComponent each part), on random and chosen paths.
import { describe, expect, it } from "vitest";
import { HdfsPathError } from "../../src/webhdfs/errors.js";
import { assertAbsoluteHdfsPath, buildQuery, encodeHdfsPath } from "../../src/webhdfs/paths.js";

function referenceValid(path: string): boolean {
  if (!path.startsWith("/") || path.includes("\0")) return false;
  const segments = path.split("/").slice(1);
  if (segments.at(-1) === "") segments.pop();
  return segments.every((s) => s !== "" && s !== "." && s !== "..");
}

const referenceEncode = (path: string) => path.split("/").map((s) => encodeURIComponent(s)).join("/");

function referenceQuery(op: string, params: Record<string, string | number | boolean | undefined>): string {
  const parts = [`op=${encodeURIComponent(op)}`];
  for (const [k, v] of Object.entries(params)) if (v !== undefined) parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  return `?${parts.join("&")}`;
}

// A small deterministic generator (mulberry32), so a failure replays.
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const ALPHABET = ["/", "/", "/", ".", ".", "a", "Z", "0", "-", "_", "~", "+", "%", " ", ":", "?", "#", "&", "=", "é", "\u{1f600}", "\0", "'", "(", "*"];

describe("WebHDFS paths and queries", () => {
  it("accepts and refuses exactly what the segment-by-segment check does, and encodes like encodeURIComponent per segment", () => {
    const next = rng(42);
    const chosen = ["/", "//", "/a/", "/a//", "/.", "/..", "/a/.", "/a/./b", "/a/../b", "/.hidden", "/a/..b", "/a/b.", "/a\0b", "a/b", "", "/x/"];
    const random = Array.from({ length: 5000 }, () => {
      const n = 1 + Math.floor(next() * 12);
      return (next() < 0.9 ? "/" : "") + Array.from({ length: n }, () => ALPHABET[Math.floor(next() * ALPHABET.length)]).join("");
    });
    let valid = 0;
    for (const path of [...chosen, ...random]) {
      const ok = referenceValid(path);
      if (ok) {
        valid++;
        expect(() => assertAbsoluteHdfsPath(path), JSON.stringify(path)).not.toThrow();
        expect(encodeHdfsPath(path), JSON.stringify(path)).toBe(referenceEncode(path));
      } else {
        expect(() => assertAbsoluteHdfsPath(path), JSON.stringify(path)).toThrow(HdfsPathError);
      }
    }
    expect(valid).toBeGreaterThan(1000); // the generator reaches both sides
  });

  it("builds the query with every name and value percent-encoded (a + stays %2B), undefined ones left out", () => {
    const next = rng(7);
    for (let i = 0; i < 2000; i++) {
      const params: Record<string, string | number | boolean | undefined> = {};
      for (let k = 0; k < 4; k++) {
        const name = Array.from({ length: 1 + Math.floor(next() * 5) }, () => ALPHABET[Math.floor(next() * ALPHABET.length)]).join("");
        const roll = next();
        params[name] = roll < 0.2 ? undefined : roll < 0.4 ? Math.floor(next() * 1e6) : roll < 0.5 ? next() < 0.5 : Array.from({ length: Math.floor(next() * 8) }, () => ALPHABET[Math.floor(next() * ALPHABET.length)]).join("");
      }
      expect(buildQuery("CREATE", params)).toBe(referenceQuery("CREATE", params));
    }
    expect(buildQuery("RENAME", { destination: "/a b/c+d", renameoptions: "NONE", x: undefined })).toBe("?op=RENAME&destination=%2Fa%20b%2Fc%2Bd&renameoptions=NONE");
  });
});
