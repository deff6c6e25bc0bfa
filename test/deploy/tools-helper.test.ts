// The rule for tests that need an external program (promtool, prometheus,
// chromium): under CI=true a missing program fails the test; elsewhere the test
// skips with a printed reason that says how to install it.

import { afterEach, describe, expect, it, vi } from "vitest";
import { findTool, requireTool } from "../helpers/tools.js";

const saved = process.env.CI;
afterEach(() => {
  if (saved === undefined) delete process.env.CI;
  else process.env.CI = saved;
  vi.restoreAllMocks();
});

class Skipped extends Error {}

describe("requireTool", () => {
  it("returns the path of a program that is installed", () => {
    expect(requireTool({ skip: () => { throw new Skipped(); } }, "sh", "a test")).toBe(findTool("sh"));
    expect(findTool("sh")).toMatch(/^\/.*\/sh$/);
  });

  it("fails under CI=true when the program is missing", () => {
    process.env.CI = "true";
    expect(() => requireTool({ skip: () => { throw new Skipped(); } }, "no-such-tool-ckpt", "promtool test rules")).toThrow(
      /promtool test rules: no-such-tool-ckpt is missing, and CI=true requires it \(\.ci\/install-monitoring-tools installs it\)/,
    );
  });

  it("skips with a printed reason elsewhere", () => {
    delete process.env.CI;
    const printed: string[] = [];
    vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
      printed.push(String(chunk));
      return true;
    });
    let note = "";
    expect(() =>
      requireTool({ skip: (n?: string) => { note = n ?? ""; throw new Skipped(); } }, "/nonexistent/chromium", "status page in headless Chromium"),
    ).toThrow(Skipped);
    expect(note).toBe("SKIPPED: status page in headless Chromium: /nonexistent/chromium is not installed (run .ci/install-monitoring-tools)");
    expect(printed).toContain(`${note}\n`);
  });
});
