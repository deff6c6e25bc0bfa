// Visits every state handle of a parsed `_metadata` (operators, subtasks, nested
// handles), telling each visitor where the handle is used and whether its
// position makes the referenced stream shared with other checkpoints. Closure,
// summaries and path rewriting are all built on this one traversal.

import type { ChannelDirection } from "./format-handles.js";
import type { ChannelHandle, CheckpointMetadata, KeyedHandle, OperatorHandle, StreamHandle, SubtaskState } from "./model.js";

export interface StreamSite {
  /** e.g. `operator:1f2b…/subtask:0/managedKeyedState/shared[000094.sst]`. */
  usedBy: string;
  /** True for positions whose files other checkpoints may reference too (incremental shared lists, changelog parts, file merging). */
  sharedPosition: boolean;
}

export interface HandleVisitor {
  stream?(h: StreamHandle, site: StreamSite): void;
  keyed?(h: KeyedHandle, usedBy: string): void;
  operator?(h: OperatorHandle, usedBy: string): void;
  channel?(h: ChannelHandle, direction: ChannelDirection, usedBy: string): void;
}

export function walkHandles(md: CheckpointMetadata, visitor: HandleVisitor): void {
  const stream = (h: StreamHandle, usedBy: string, sharedPosition: boolean): void => {
    visitor.stream?.(h, { usedBy, sharedPosition });
    if (h.type === "keyGroupsStream") stream(h.delegate, `${usedBy}/delegate`, sharedPosition);
  };

  const keyed = (h: KeyedHandle, at: string): void => {
    visitor.keyed?.(h, at);
    switch (h.type) {
      case "keyGroups":
        return stream(h.delegate, `${at}/delegate`, false);
      case "incremental":
        stream(h.metaStateHandle, `${at}/metaStateHandle`, false);
        for (const e of h.sharedState) stream(e.handle, `${at}/shared[${e.localPath}]`, true);
        for (const e of h.privateState) stream(e.handle, `${at}/private[${e.localPath}]`, false);
        return;
      case "changelogBackend":
        h.materialized.forEach((m, i) => keyed(m, `${at}/materialized[${i}]`));
        h.nonMaterialized.forEach((m, i) => keyed(m, `${at}/nonMaterialized[${i}]`));
        return;
      case "changelogFiles":
        h.parts.forEach((p, i) => stream(p.handle, `${at}/parts[${i}]`, true));
        return;
      default:
        return;
    }
  };

  const operator = (h: OperatorHandle, at: string): void => {
    visitor.operator?.(h, at);
    if (h.type === "operatorStream") stream(h.delegate, `${at}/delegate`, h.fileMerging !== undefined);
  };

  const channel = (h: ChannelHandle, direction: ChannelDirection, at: string): void => {
    visitor.channel?.(h, direction, at);
    stream(h.delegate, `${at}/delegate`, false);
  };

  const subtask = (s: SubtaskState, at: string): void => {
    s.legacyState?.forEach((h, i) => stream(h, `${at}/legacyState[${i}]`, false));
    s.managedOperatorState.forEach((h, i) => operator(h, `${at}/managedOperatorState${s.managedOperatorState.length > 1 ? `[${i}]` : ""}`));
    s.rawOperatorState.forEach((h, i) => operator(h, `${at}/rawOperatorState${s.rawOperatorState.length > 1 ? `[${i}]` : ""}`));
    keyed(s.managedKeyedState, `${at}/managedKeyedState`);
    keyed(s.rawKeyedState, `${at}/rawKeyedState`);
    s.inputChannels?.forEach((h, i) => channel(h, "input", `${at}/inputChannels[${i}]`));
    s.resultSubpartitions?.forEach((h, i) => channel(h, "output", `${at}/resultSubpartitions[${i}]`));
  };

  for (const op of md.operators) {
    const at = `operator:${op.operatorId}`;
    if (op.coordinatorState) stream(op.coordinatorState, `${at}/coordinatorState`, false);
    for (const entry of op.subtasks) if (entry.state) subtask(entry.state, `${at}/subtask:${entry.subtaskIndex}`);
  }
}
