/**
 * A worker's relay port (issue #20). Under CURVE a worker binds two control
 * sockets: its control port, whose ZAP domain admits only the managers'
 * keys, and its relay port, whose domain admits only the relay keys (ZeroMQ
 * does not tell a handler which key sent a message, so the port says it).
 * On the relay port a COMMAND starts a job marked as relayed, REPORT is
 * served as on the control port, and STOP stops only relayed jobs: a holder
 * of the relay key (every worker VM) cannot stop what a manager started, nor
 * a relayed job whose id (ending in 64 random bits, `jobs.ts`) its own
 * relays were not told.
 * The worker's hello carries the port; the manager gives it, per worker a
 * COMMAND names, in `Command.relay_ports`; a worker relays to the admitted
 * address's host at that port (`roster.ts`). The keys of both ports come
 * from the worker's flags here too.
 *
 * @module
 */
import { type HostPort, parseHostPort, UsageError } from "../core/cli.ts";
import { type KeyPair, readKeyPair, readPublicKeys } from "../core/curve.ts";
import type { CurveClientKeys } from "../core/transport.ts";
import type { Message } from "../proto/codec.ts";
import type { JobTable } from "./jobs.ts";

/** The port a request came in on: the managers' control port, or the relay port. */
export type Port = "control" | "relay";

/**
 * Why a request that came on the relay port is refused (its ERR's text), or
 * undefined when it is served: CONNECT is a manager's; a STOP must name a
 * job that a relayed COMMAND started (a STOP of every job, an empty id, is
 * refused: no worker sends one, and it is a manager's to send).
 */
export function relayRefusal(
  req: Message,
  jobs: JobTable,
): string | undefined {
  if (req.type === "CONNECT") {
    return "CONNECT is refused on the relay port: it serves only the " +
      "relayed COMMAND, REPORT and STOP of other workers";
  }
  if (req.type !== "STOP") return undefined;
  const id = req.data.report!.job.id;
  if (id === "") {
    return "STOP of every job is refused on the relay port: it stops only " +
      "jobs started by a relayed COMMAND, each named by its id";
  }
  const rec = jobs.get(id);
  if (rec && !rec.relayed) {
    return `Job "${id}" was started by a manager, not by a relayed COMMAND: ` +
      "the relay port stops only relayed jobs";
  }
  return undefined;
}

/**
 * The address of the relay port: `--relay-bind`, else the `--bind` host at
 * the `--bind` port + 1 (port 0, a free port, when `--bind`'s is 0). It must
 * be reachable at the host the worker's control address names.
 */
export function relayBind(bind: HostPort, flag: string | undefined): HostPort {
  if (flag !== undefined) return parseHostPort("relay-bind", flag);
  if (bind.port === 0) return { hostname: bind.hostname, port: 0 };
  if (bind.port >= 65535) {
    throw new UsageError(
      `Flag "--bind" port ${bind.port} leaves no port above it for the ` +
        'relay port: give "--relay-bind HOST:PORT"',
    );
  }
  return { hostname: bind.hostname, port: bind.port + 1 };
}

/**
 * The CURVE keys of `--curve-key`, `--curve-allow`, `--relay-key` and
 * `--relay-allow`: the worker's server key pair (shared by the workers), the
 * client keys it admits (the managers' on its control port, the relay keys
 * on its relay port; never its own server key: holding `workers.key` does
 * not make a client), and the key pair it relays with.
 */
export function curveKeys(values: {
  "curve-key": string | undefined;
  "curve-allow": string[];
  "relay-key": string | undefined;
  "relay-allow": string[];
  "relay-bind": string | undefined;
}):
  | {
    server: KeyPair;
    managers: string[];
    relays: string[];
    relay: CurveClientKeys;
  }
  | undefined {
  const list = (flag: "curve-allow" | "relay-allow") =>
    readPublicKeys(flag, values[flag].flatMap((v) => v.split(",")));
  if (values["curve-key"] === undefined) {
    for (
      const f of [
        "curve-allow",
        "relay-key",
        "relay-allow",
        "relay-bind",
      ] as const
    ) {
      if (values[f]?.length) {
        throw new UsageError(`Flag "--${f}" needs "--curve-key"`);
      }
    }
    return undefined;
  }
  const server = readKeyPair("curve-key", values["curve-key"]);
  if (values["curve-allow"].length === 0) {
    throw new UsageError(
      'Flag "--curve-key" needs "--curve-allow" with the managers\' public keys',
    );
  }
  if (values["relay-key"] === undefined) {
    throw new UsageError(
      'Flag "--curve-key" needs "--relay-key": the key pair workers relay to ' +
        'each other with ("treecast keygen relay")',
    );
  }
  const relay = readKeyPair("relay-key", values["relay-key"]);
  const relays = values["relay-allow"].length > 0
    ? list("relay-allow")
    : [relay.publicKey];
  const managers = list("curve-allow");
  if ([...managers, ...relays].includes(server.publicKey)) {
    throw new UsageError(
      "The worker key must not be a client key: give the managers and the " +
        "relays key pairs of their own",
    );
  }
  return {
    server,
    managers,
    relays,
    relay: { ...relay, serverKey: server.publicKey },
  };
}
