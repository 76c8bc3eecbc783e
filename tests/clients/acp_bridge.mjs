// A line bridge between a Rust test and the ACP SDK's client side (`@agentclientprotocol/sdk`'s
// ClientApp): it starts the agent (argv: the command and its arguments; the working folder is this
// process's) and connects to it over stdio, then reads one request a line on stdin and answers each
// on stdout, by id, in the order they finish (requests run concurrently):
//   {"id": 1, "op": "request", "method": "session/new", "params": {..}} -> {"id": 1, "result": ..}
//   {"id": 2, "op": "notify", "method": "session/cancel", "params": {..}} -> {"id": 2, "result": null}
// What the agent sends on its own is an event line, with the time it arrived (ms since start):
//   {"event": {"kind": "update", "at": ms, "params": <session/update params>}}
//   {"event": {"kind": "permission", "at": ms, "params": <session/request_permission params>}}
// A permission request is answered with the option ACP_PERMISSION_ANSWER names (default
// "allow_once"). A failure answers {"id": n, "error": "message"}. End of stdin closes the client.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { Readable, Writable } from "node:stream";
import { ClientApp, ndJsonStream } from "@agentclientprotocol/sdk";

const [command, ...args] = process.argv.slice(2);
const started = performance.now();
const at = () => Math.round((performance.now() - started) * 1000) / 1000;
const emit = (message) => process.stdout.write(JSON.stringify(message) + "\n");
const agentProcess = spawn(command, args, { cwd: process.cwd(), stdio: ["pipe", "pipe", "inherit"] });
const stream = ndJsonStream(Writable.toWeb(agentProcess.stdin), Readable.toWeb(agentProcess.stdout));
const answerWith = process.env.ACP_PERMISSION_ANSWER ?? "allow_once";

const app = new ClientApp({ name: "acp-bridge" })
  .onNotification("session/update", ({ params }) => {
    emit({ event: { kind: "update", at: at(), params } });
  })
  .onRequest("session/request_permission", ({ params }) => {
    emit({ event: { kind: "permission", at: at(), params } });
    return { outcome: { outcome: "selected", optionId: answerWith } };
  });
const connection = app.connect(stream);
const agent = connection.agent;
emit({ id: 0, result: { ready: true } });

const pending = [];
const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (!line.trim()) continue;
  const request = JSON.parse(line);
  const sentAt = at();
  const work = (async () => {
    try {
      const result =
        request.op === "notify"
          ? (await agent.notify(request.method, request.params), null)
          : await agent.request(request.method, request.params);
      emit({ id: request.id, result, sentAt, at: at() });
    } catch (error) {
      emit({ id: request.id, error: String(error?.message ?? error), data: error?.data ?? null });
    }
  })();
  pending.push(work);
}
await Promise.allSettled(pending);
connection.close();
agentProcess.stdin.end();
await new Promise((resolve) => agentProcess.once("exit", resolve));
