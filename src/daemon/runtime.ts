// Building the pieces every command needs from a Config: the two storages and
// (for commands that write) the engine with its metrics hooks.

import type { Config } from "../config/load.js";
import type { Logger } from "../util/log.js";
import { createStorage } from "../storage/factory.js";
import type { Storage } from "../storage/types.js";
import { Engine, type EngineHooks } from "../replication/index.js";

export interface Sides {
  source: Storage;
  target: Storage;
  close(): void;
}

/** `hooks.onNamenodeFailover` hears every NameNode switch of either side's WebHDFS client. */
export function openSides(config: Config, logger: Logger, hooks: Pick<EngineHooks, "onNamenodeFailover"> = {}): Sides {
  const o = hooks.onNamenodeFailover ? { onFailover: (e: { cluster: string; from: string; to: string }) => hooks.onNamenodeFailover?.(e.cluster, e.from, e.to) } : {};
  const source = createStorage(config.source, logger, o);
  const target = createStorage(config.target, logger, o);
  return {
    source,
    target,
    close() {
      source.close();
      target.close();
    },
  };
}

export function createEngine(config: Config, logger: Logger, hooks: EngineHooks = {}, useLease = true): Engine {
  const { source, target } = openSides(config, logger, hooks);
  return new Engine({ config, source, target, logger, hooks, useLease });
}
