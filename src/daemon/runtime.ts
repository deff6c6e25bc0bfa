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

export function openSides(config: Config, logger: Logger): Sides {
  const source = createStorage(config.source, logger);
  const target = createStorage(config.target, logger);
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
  const { source, target } = openSides(config, logger);
  return new Engine({ config, source, target, logger, hooks, useLease });
}
