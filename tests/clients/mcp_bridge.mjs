// A line bridge between a Rust test and the official MCP SDK's client (`@modelcontextprotocol/sdk`):
// it connects to `codelab-planner mcp` over stdio (argv: the command and its arguments; the working
// folder is this process's), then reads one request a line on stdin and answers each on stdout, by id,
// in the order they finish (requests run concurrently):
//   {"id": 1, "op": "list"}                                   -> {"id": 1, "result": <tools/list result>}
//   {"id": 2, "op": "call", "name": "...", "arguments": {..}} -> {"id": 2, "result": <tools/call result>}
// A failure answers {"id": n, "error": "message"}. End of stdin closes the client.
import { createInterface } from "node:readline";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport, getDefaultEnvironment } from "@modelcontextprotocol/sdk/client/stdio.js";

const [command, ...args] = process.argv.slice(2);
const name = process.env.MCP_CLIENT_NAME ?? "bridge";
const transport = new StdioClientTransport({
  command,
  args,
  cwd: process.cwd(),
  env: { ...getDefaultEnvironment(), CODELAB_PLANNER_LOG: process.env.CODELAB_PLANNER_LOG ?? "warn" },
  stderr: "inherit",
});
const client = new Client({ name, version: "1.0.0" });
await client.connect(transport);
const answer = (message) => process.stdout.write(JSON.stringify(message) + "\n");
answer({ id: 0, result: { ready: true, server: client.getServerVersion() } });

const pending = [];
const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (!line.trim()) continue;
  const request = JSON.parse(line);
  const work = (async () => {
    try {
      const result =
        request.op === "list"
          ? await client.listTools()
          : await client.callTool({ name: request.name, arguments: request.arguments ?? {} });
      answer({ id: request.id, result });
    } catch (error) {
      answer({ id: request.id, error: String(error?.message ?? error) });
    }
  })();
  pending.push(work);
}
await Promise.all(pending);
await client.close();
