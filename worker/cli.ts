/**
 * `treecast worker`: bind a REP socket and serve the manager until stopped.
 *
 * @module
 */
import { type Budget, DEFAULT_BUDGET } from "../core/budget.ts";
import { LIMITS } from "../core/limits.ts";
import {
  type Command,
  type CommandSpec,
  isLoopback,
  joinHostPort,
  parseHost,
  parseHostPort,
  parseNumber,
  parseSeconds,
  required,
  runCommand,
  splitHostPort,
  stdio,
  UsageError,
} from "../core/cli.ts";
import { LOG_FLAGS, logFromFlags } from "../core/node.ts";
import { MANAGER_DOMAIN, RELAY_DOMAIN, ZapHandler } from "../core/curve.ts";
import { wakeOnSocketEvents } from "../core/ready.ts";
import { RepServer } from "../core/transport.ts";
import { parseEmulation } from "../probes/emulate.ts";
import { ioSupport } from "../probes/io.ts";
import type { IoOffer } from "./validate.ts";
import { EMULATED_UNSYNC } from "./kernel_clock.ts";
import { curveKeys, relayBind } from "./relay_port.ts";
import { Worker } from "./worker.ts";

const spec = {
  name: "worker",
  summary: "Serve a manager: run the probe jobs it commands on this VM",
  synopsis: "worker --bind HOST:PORT [options]",
  description:
    "Binds a ZeroMQ REP socket and answers CONNECT, COMMAND, REPORT and STOP until\n" +
    'SIGINT or SIGTERM. Prints one JSON line {"event":"ready",...} with the\n' +
    "bound address (port 0 picks a free port). With CURVE it binds a second\n" +
    "socket, the relay port, for the workers that relay to it (relay keys only).",
  flags: {
    bind: {
      type: "string",
      arg: "HOST:PORT",
      help:
        "Control address to bind (a wildcard needs --advertise unless the host has one address)",
    },
    advertise: {
      type: "string",
      arg: "HOST",
      help:
        "Host the manager and the workers reach this worker at: its name, and its probes' address (default: the host they used)",
    },
    "probe-host": {
      type: "string",
      arg: "HOST",
      help:
        "Address every probe binds, a parent's stream sent from it too (default: the host of --bind)",
    },
    emulate: {
      type: "string",
      arg: "SPEC",
      help:
        "Emulate a slow VM in every probe it runs, e.g. delay=2ms,jitter=200us; offset=300us fakes a skewed clock in its receivers; clock=unsync fakes an unsynchronised clock",
    },
    "curve-key": {
      type: "string",
      arg: "FILE",
      help:
        "Encrypt and authenticate with CURVE: this worker's .key file (shared by all workers)",
    },
    "curve-allow": {
      type: "string",
      arg: "FILE[,FILE]",
      help: "Public key files (.pub) of the managers allowed to connect",
      multiple: true,
    },
    "relay-key": {
      type: "string",
      arg: "FILE",
      help:
        "With CURVE: the .key file this worker relays to the workers below with (not the worker key)",
    },
    "relay-bind": {
      type: "string",
      arg: "HOST:PORT",
      help:
        "With CURVE: the relay port, the one port that admits the relay keys; workers reach it at this worker's host",
      defaultText: "the --bind host at its port + 1, port 0 for 0",
    },
    "relay-allow": {
      type: "string",
      arg: "FILE[,FILE]",
      help:
        "With CURVE: public keys of the workers allowed to relay to this one",
      defaultText: "the --relay-key's public key",
      multiple: true,
    },
    io: {
      type: "string",
      arg: "auto|native|deno",
      help:
        "Probe I/O backends to offer: auto (every one this host supports), native or deno only",
      defaultText: "auto",
    },
    "cold-probes": {
      type: "boolean",
      help:
        "Start each probe process when its job comes, instead of reusing two warm ones",
    },
    "relay-timeout": {
      type: "string",
      arg: "SECONDS",
      help:
        "Deadline of a request relayed to a worker below, per layer under it",
      defaultText: "2s",
    },
    "max-pps": {
      type: "string",
      arg: "N",
      help:
        "Budget: packets per second sent over all running jobs (rate x destinations of each)",
      defaultText: `${DEFAULT_BUDGET.pps}`,
    },
    "max-dests": {
      type: "string",
      arg: "N",
      help: "Budget: destinations of one job",
      defaultText: `${DEFAULT_BUDGET.dests}`,
    },
    "max-size": {
      type: "string",
      arg: "BYTES",
      help: "Budget: datagram size",
      defaultText: `${DEFAULT_BUDGET.size}`,
    },
    "max-duration": {
      type: "string",
      arg: "SECONDS",
      help: "Budget: length of one job, warm-up + duration",
      defaultText: `${DEFAULT_BUDGET.durationMs / 1000}s`,
    },
    "max-jobs": {
      type: "string",
      arg: "N",
      help: "Budget: jobs running at once (each a probe process)",
      defaultText: `${DEFAULT_BUDGET.jobs}`,
    },
    ...LOG_FLAGS,
  },
} as const satisfies CommandSpec;

/**
 * What the worker offers for `--io`: every backend this host supports
 * (auto), or the one named. Native where it does not load is a usage error.
 */
export function ioOffer(
  flag: string | undefined,
  host: IoOffer = ioSupport(),
): IoOffer {
  switch (flag ?? "auto") {
    case "auto":
      return host;
    case "native":
      if (!host.io.includes("native")) {
        throw new UsageError(
          'Flag "--io" is native, but the native backend does not load on this host (Linux libc through FFI): use --io deno or auto',
        );
      }
      return { io: ["native"], timestamps: host.timestamps };
    case "deno":
      return { io: ["deno"], timestamps: ["user"] };
    default:
      throw new UsageError(
        `Flag "--io" must be auto, native or deno, got "${flag}"`,
      );
  }
}

/**
 * The budget of the `--max-*` flags (each left out: its default); a COMMAND
 * beyond it gets ERR naming the limit (`core/budget.ts`).
 */
export function budgetFromFlags(values: {
  "max-pps"?: string | undefined;
  "max-dests"?: string | undefined;
  "max-size"?: string | undefined;
  "max-duration"?: string | undefined;
  "max-jobs"?: string | undefined;
}): Budget {
  const whole = (flag: keyof typeof values, min: number, max: number) => {
    const text = values[flag];
    return text === undefined
      ? undefined
      : parseNumber(flag, text, { integer: true, min, max });
  };
  const d = DEFAULT_BUDGET;
  const duration = values["max-duration"];
  return {
    pps: whole("max-pps", 1, LIMITS.rate[1] * LIMITS.addrs[1]) ?? d.pps,
    dests: whole("max-dests", 1, LIMITS.addrs[1]) ?? d.dests,
    size: whole("max-size", 24, LIMITS.size[1]) ?? d.size,
    durationMs: duration === undefined ? d.durationMs : Math.round(
      parseSeconds("max-duration", duration, {
        min: 0.001,
        max: (LIMITS.dur[1] + LIMITS.warmup[1]) / 1000,
      }) * 1000,
    ),
    jobs: whole("max-jobs", 1, 1024) ?? d.jobs,
  };
}

/**
 * The host a worker bound at `bindHost` names itself by, in every reply and
 * job it gives out (the manager and the workers above it know it by the
 * address they reach it at): `--advertise` if given, else the bound host;
 * bound to a wildcard, the host's one address beyond loopback and
 * link-local (IPv4 for `0.0.0.0`), and a usage error when it has none or
 * several (`addrs`: the host's interface addresses).
 */
export function nameHost(
  bindHost: string,
  advertise: string | undefined,
  addrs: readonly { family: string; address: string }[] = _interfaces(),
): string {
  if (advertise !== undefined) {
    const host = parseHost("advertise", advertise);
    if (_isWildcard(host)) {
      throw new UsageError(
        `Flag "--advertise" must be an address the manager reaches, got "${advertise}"`,
      );
    }
    return host;
  }
  if (!_isWildcard(bindHost)) return bindHost;
  const own = [
    ...new Set(
      addrs.filter((a) =>
        (bindHost === "::" || a.family === "IPv4") &&
        !isLoopback(a.address) && !a.address.startsWith("169.254.") &&
        !/^fe[89ab]/i.test(a.address)
      ).map((a) => a.address),
    ),
  ];
  if (own.length === 1) return own[0]!;
  throw new UsageError(
    `Flag "--bind" is the wildcard "${bindHost}": give "--advertise HOST", ` +
      "the address the manager reaches this worker at (this host has " +
      (own.length === 0 ? "no address beyond loopback" : own.join(", ")) +
      ")",
  );
}

function _isWildcard(host: string): boolean {
  return host === "0.0.0.0" || host === "::";
}

function _interfaces(): Deno.NetworkInterfaceInfo[] {
  try {
    return Deno.networkInterfaces();
  } catch {
    return []; // not allowed to look: --advertise is needed
  }
}

/**
 * Splits `clock=unsync` (the worker's own knob: its CONNECT reports an
 * unsynchronised kernel clock) from the probes' emulation spec.
 */
function _splitClock(spec: string): { probes: string; unsync: boolean } {
  const parts = spec.split(",").map((s) => s.trim());
  const clock = parts.filter((p) => p.startsWith("clock="));
  if (clock.some((p) => p !== "clock=unsync")) {
    throw new UsageError(
      `Flag "--emulate": key "clock" takes only "unsync", got "${clock[0]}"`,
    );
  }
  return {
    probes: parts.filter((p) => !p.startsWith("clock=")).join(","),
    unsync: clock.length > 0,
  };
}

/** The `worker` subcommand. */
export const workerCommand: Command = {
  spec,
  run: (args) =>
    runCommand(spec, args, async ({ values }) => {
      const bind = parseHostPort("bind", required("bind", values.bind));
      const name = nameHost(bind.hostname, values.advertise);
      const log = logFromFlags(values);
      const emu = values.emulate === undefined
        ? undefined
        : _splitClock(values.emulate);
      if (emu?.probes) parseEmulation(emu.probes);
      const io = ioOffer(values.io);
      const budget = budgetFromFlags(values);
      const keys = curveKeys(values);
      const curve = keys?.server;
      const zap = keys
        ? await ZapHandler.start({
          [MANAGER_DOMAIN]: keys.managers,
          [RELAY_DOMAIN]: keys.relays,
        })
        : undefined;
      const server = await RepServer.bind(
        joinHostPort(bind),
        curve ? { curve, zapDomain: MANAGER_DOMAIN } : {},
      );
      // Under CURVE: the relay port, the relay keys' only way in.
      const relays = curve
        ? await RepServer.bind(
          joinHostPort(relayBind(bind, values["relay-bind"])),
          { curve, zapDomain: RELAY_DOMAIN },
        ).catch((e) => {
          server.close();
          throw e;
        })
        : undefined;
      if (!curve && !isLoopback(bind.hostname)) {
        stdio.err(
          `warning: Worker bound to "${server.addr}" without CURVE: anyone who can ` +
            `reach this port can start probes here (see "treecast keygen" and SECURITY in the README)\n`,
        );
      }
      const worker = new Worker({
        name: joinHostPort({
          hostname: name,
          port: splitHostPort(server.addr).port,
        }),
        bindHost: values["probe-host"] === undefined
          ? bind.hostname
          : parseHost("probe-host", values["probe-host"]),
        io,
        budget,
        standby: !values["cold-probes"],
        ...(values["relay-timeout"] !== undefined
          ? {
            relayTimeoutMs: Math.round(
              parseSeconds("relay-timeout", values["relay-timeout"], {
                min: 0.01,
                max: 600,
              }) * 1000,
            ),
          }
          : {}),
        ...(values.advertise !== undefined ? { advertise: name } : {}),
        log,
        ...(emu?.probes ? { emulate: emu.probes } : {}),
        ...(emu?.unsync ? { clock: EMULATED_UNSYNC } : {}),
        ...(keys ? { curve: keys.relay } : {}),
        ...(relays ? { relayPort: splitHostPort(relays.addr).port } : {}),
      });
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      Deno.addSignalListener("SIGINT", onSignal);
      Deno.addSignalListener("SIGTERM", onSignal);
      stdio.out(
        JSON.stringify({
          event: "ready",
          role: "worker",
          bind: server.addr,
          ...(relays ? { relay: relays.addr } : {}),
        }) + "\n",
      );
      stdio.err(`treecast worker: listening on tcp://${server.addr}\n`);
      log.event("info", "listening", { bind: server.addr });
      // Warm probes start once the worker answers, in the background.
      worker.jobs.warmUp().catch(() => {});
      wakeOnSocketEvents(); // an idle worker notices a request at once
      try {
        await Promise.all([
          worker.serve(server, stop.signal),
          ...(relays ? [worker.serve(relays, stop.signal, "relay")] : []),
        ]);
      } finally {
        Deno.removeSignalListener("SIGINT", onSignal);
        Deno.removeSignalListener("SIGTERM", onSignal);
        server.close();
        relays?.close();
        await worker.close();
        await zap?.close();
      }
      stdio.err("treecast worker: stopped\n");
      return 0;
    }),
};
