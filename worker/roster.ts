/**
 * A worker's side of the run's roster (`core/roster.ts`): the keys of the
 * last runs that CONNECTed it, the check that a COMMAND names only workers
 * its run admitted (before anything is relayed or started), and each name
 * of a worker below resolved once per run: the relays of the run go to that
 * address whatever the name resolves to later.
 *
 * @module
 */
import { lookup } from "node:dns/promises";
import { joinHostPort, splitHostPort } from "../core/cli.ts";
import { namedAddrs, relayPortsOf, unrostered } from "../core/roster.ts";
import type { Command, Hello } from "../proto/codec.ts";
import { CommandError } from "./validate.ts";

/** Runs whose keys a worker keeps (a manager's run, and a few before it). */
const RUNS_KEPT = 16;

/** One run a worker knows: its key and the names it resolved. */
interface Run {
  key: Uint8Array;
  hosts: Map<string, Promise<string>>;
}

/** The runs a worker was CONNECTed by, newest last. */
export class Rosters {
  #runs = new Map<string, Run>();

  /** A CONNECT hello: remembers its run (a hello without one changes nothing). */
  connect(hello: Hello): void {
    const run = hello.run ?? "";
    const key = hello.rosterKey;
    if (run === "" || !key || key.length === 0) return;
    const known = this.#runs.get(run);
    this.#runs.delete(run);
    this.#runs.set(
      run,
      known && _same(known.key, key) ? known : { key, hosts: new Map() },
    );
    if (this.#runs.size > RUNS_KEPT) {
      this.#runs.delete(this.#runs.keys().next().value!);
    }
  }

  /**
   * Throws {@link CommandError} unless every worker address `cmd` names
   * carries its run's tag; resolves to where each address of `cmd.addrs`
   * (the workers it relays to) is reached in this run: its host resolved
   * once per run (a name that does not resolve is a CommandError naming its
   * field), at its relay port when the command gives one, else at its own
   * port. With `relayPorts` (a worker under CURVE, whose relays the control
   * ports refuse) an address without a relay port is a CommandError.
   */
  async pin(
    cmd: Command,
    opts: { relayPorts?: boolean } = {},
  ): Promise<Map<string, string>> {
    const named = namedAddrs(cmd);
    if (named.length === 0) return new Map();
    const run = cmd.run ?? "";
    if (run === "") {
      throw new CommandError(
        "run",
        "is empty: a command naming workers must come from the run of a " +
          "manager that CONNECTed this worker",
      );
    }
    const known = this.#runs.get(run);
    if (!known) {
      throw new CommandError(
        "run",
        `names run "${run}", which never CONNECTed this worker (or is over)`,
      );
    }
    const bad = unrostered(known.key, cmd);
    if (bad) {
      throw new CommandError(
        bad.field,
        `names "${bad.addr}", which is not a worker the manager admitted in ` +
          `run "${run}" (no valid roster tag)`,
      );
    }
    const ports = _relayPorts(cmd, named.length, opts.relayPorts ?? false);
    const resolved = await Promise.all(cmd.addrs.map(async (addr, i) => {
      const hp = splitHostPort(addr);
      const port = ports.get(addr) || hp.port;
      let ip = known.hosts.get(hp.hostname);
      if (!ip) {
        ip = _resolve(hp.hostname);
        known.hosts.set(hp.hostname, ip);
        ip.catch(() => known.hosts.delete(hp.hostname));
      }
      try {
        return joinHostPort({ hostname: await ip, port });
      } catch (e) {
        throw new CommandError(
          `addrs[${i}]`,
          `names host "${hp.hostname}", which does not resolve: ${
            (e as Error).message
          }`,
        );
      }
    }));
    const targets = new Map(cmd.addrs.map((a, i) => [a, resolved[i]!]));
    return targets;
  }
}

/**
 * The relay ports of the workers `cmd` relays to (`named`: how many workers
 * it names); throws {@link CommandError} when the list does not match the
 * names, or when `required` and a worker it relays to has none.
 */
function _relayPorts(
  cmd: Command,
  named: number,
  required: boolean,
): Map<string, number> {
  const given = cmd.relayPorts?.length ?? 0;
  if (given !== 0 && given !== named) {
    throw new CommandError(
      "relayPorts",
      `has ${given} ports for the ${named} workers the command names`,
    );
  }
  const ports = relayPortsOf(cmd);
  const missing = required ? cmd.addrs.findIndex((a) => !ports.get(a)) : -1;
  if (missing >= 0) {
    throw new CommandError(
      "relayPorts",
      `gives no relay port for "${cmd.addrs[missing]}" (addrs[${missing}]): ` +
        "under CURVE this worker relays only to relay ports, which its " +
        "manager must send (a manager older than this worker sends none)",
    );
  }
  return ports;
}

/** An IP literal as it is; a name's address, IPv4 first. */
async function _resolve(host: string): Promise<string> {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(":")) return host;
  const found = await lookup(host, { family: 4 }).catch(() => lookup(host));
  return found.address;
}

function _same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
