// Covers telling a live execution owner from a gone one: this process, an exited child, a reused pid.
// Must never signal a process other than with signal 0, and never leave a child running.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import os from "node:os";
import { describe, test } from "node:test";
import { currentOwner, isOwnerAlive } from "../../../src/lib/store/owner.js";

describe("currentOwner", () => {
  test("names this host and process, the same every time", () => {
    const me = currentOwner();
    assert.equal(me.host, os.hostname());
    assert.equal(me.pid, process.pid);
    assert.ok(Number.isSafeInteger(me.startedAt) && me.startedAt > 0);
    assert.deepEqual(currentOwner(), me);
  });
});

describe("isOwnerAlive", () => {
  test("this process is alive", () => {
    assert.equal(isOwnerAlive(currentOwner()), true);
  });

  test("a process that has exited is gone", async () => {
    const child = spawn(process.execPath, ["-e", "0"], { stdio: "ignore" });
    await new Promise((resolve) => child.on("exit", resolve));
    assert.ok(child.pid);
    assert.equal(isOwnerAlive({ pid: child.pid, startedAt: currentOwner().startedAt }), false);
  });

  test("a running child is alive with its own start time, and gone once it ends", async () => {
    const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60_000)"], { stdio: "ignore" });
    try {
      await new Promise((resolve) => child.on("spawn", resolve));
      assert.ok(child.pid);
      if (process.platform === "linux") {
        // Only Linux tells start times apart; the child's is read the way currentOwner reads its own.
        const { readFileSync } = await import("node:fs");
        const stat = readFileSync(`/proc/${child.pid}/stat`, "latin1");
        const startedAt = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]);
        assert.equal(isOwnerAlive({ pid: child.pid, startedAt }), true);
        assert.equal(isOwnerAlive({ pid: child.pid, startedAt: startedAt + 1 }), false, "same pid, another start: a reused pid");
      } else {
        assert.equal(isOwnerAlive({ pid: child.pid, startedAt: 0 }), true);
      }
    } finally {
      const exited = new Promise((resolve) => child.on("exit", resolve));
      child.kill();
      await exited;
    }
    assert.equal(isOwnerAlive({ pid: child.pid, startedAt: 0 }), false);
  });

  test("a pid that cannot be a process is gone", () => {
    assert.equal(isOwnerAlive({ pid: 0, startedAt: 1 }), false);
    assert.equal(isOwnerAlive({ pid: -5, startedAt: 1 }), false);
    assert.equal(isOwnerAlive({ pid: 1.5, startedAt: 1 }), false);
  });

  test("this process's pid with another start time is gone on Linux, where start times are known", () => {
    const me = currentOwner();
    assert.equal(isOwnerAlive({ pid: me.pid, startedAt: me.startedAt + 1 }), process.platform !== "linux");
  });
});
