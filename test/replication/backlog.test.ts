// The job backlog behind the pending metrics: a file two selected checkpoints
// share counts once, a copied file leaves it, a published unit takes its files
// with it, a unit given up leaves only what another still needs.

import { describe, expect, it } from "vitest";
import { Backlog } from "../../src/replication/backlog.js";

const files = (o: Record<string, number>) => new Map(Object.entries(o));

describe("Backlog", () => {
  it("counts shared files once and shrinks as files are copied and units published or given up", () => {
    const b = new Backlog();
    expect(b.summary()).toEqual({ files: 0, bytes: 0, checkpoints: [] });
    b.add("chk-5", files({ "/t/shared/a": 100, "/t/chk-5/x": 10 }));
    b.add("chk-4", files({ "/t/shared/a": 100, "/t/shared/b": 50 }));
    b.add("chk-5", files({ "/t/other": 1 })); // added twice: counted once, as first given
    expect(b.summary()).toEqual({ files: 3, bytes: 160, checkpoints: ["chk-5", "chk-4"] });
    b.copied("/t/shared/a");
    expect(b.summary()).toMatchObject({ files: 2, bytes: 60 });
    b.drop("chk-5", true); // published: /t/chk-5/x is on the target
    expect(b.summary()).toEqual({ files: 1, bytes: 50, checkpoints: ["chk-4"] });
    b.add("chk-6", files({ "/t/shared/a": 100, "/t/shared/b": 50, "/t/chk-6/y": 5 })); // a is there already
    expect(b.summary()).toEqual({ files: 2, bytes: 55, checkpoints: ["chk-4", "chk-6"] });
    b.drop("chk-4", false); // given up: b is still needed by chk-6
    expect(b.summary()).toEqual({ files: 2, bytes: 55, checkpoints: ["chk-6"] });
    b.drop("chk-6", false);
    expect(b.summary()).toEqual({ files: 0, bytes: 0, checkpoints: [] });
  });
});
