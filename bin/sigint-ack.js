// Loaded into every command bin/duet.js runs (`--import`): when SIGINT reaches a command that handles SIGINT itself
// (deploy, record, view), say so on the fd the launcher named (DUET_SIGINT_ACK_FD), so that the launcher does not
// pass on a second one (see bin/duet.js). The acknowledging listener exists only while the command has SIGINT
// listeners of its own: a command without any keeps Node's default, ended by SIGINT at once even when its event loop
// is busy (a listener would defer that until the loop is free).
import { writeSync } from "node:fs";
import { isMainThread } from "node:worker_threads";

const fd = Number(process.env.DUET_SIGINT_ACK_FD);
delete process.env.DUET_SIGINT_ACK_FD; // not for the command's own child processes
if (isMainThread && Number.isInteger(fd) && fd > 2) {
  const ack = () => {
    try {
      writeSync(fd, "SIGINT\n");
    } catch {
      // the launcher is gone: nothing to tell
    }
  };
  const ours = () => process.listeners("SIGINT").includes(ack);
  process.on("newListener", (event, listener) => {
    if (event === "SIGINT" && listener !== ack && !ours()) process.prependListener("SIGINT", ack);
  });
  process.on("removeListener", (event, listener) => {
    if (event === "SIGINT" && listener !== ack && ours() && process.listenerCount("SIGINT") === 1)
      process.removeListener("SIGINT", ack);
  });
}
