/**
 * Emulated slow VMs: `--emulate delay=300us,jitter=100us[,loss=0.01][,seed=N][,offset=-300us]`.
 *
 * Each datagram passing through an emulating child or proxy is first dropped
 * with probability `loss`; if kept, it gets an extra delay drawn **uniformly
 * from [delay - jitter, delay + jitter], clamped at 0**, rounded to the
 * nanosecond, and added to the datagram's `emu_ns` (saturating at 2^32-1 ns).
 * Nothing waits: the delay is accounted, not slept, so a proxy forwards the
 * sum and every leaf below a slow proxy sees it. Draws come from a seeded
 * PRNG (mulberry32); without `seed=` a random seed is chosen and reported in
 * the result, so any run can be replayed.
 *
 * `offset=DURATION` (signed: `offset=-300us`) fakes a skewed host instead:
 * the node's clock reads as shifted by it, for the receive times of its
 * delays and for the times of its echoes alike (`echo.ts`), so its delays
 * grow by the offset and its parent measures the offset from its echoes.
 *
 * @module
 */
import { durationSeconds, parseSeconds, UsageError } from "../core/cli.ts";
import { MAX_EMULATED_S } from "./defaults.ts";
import { mulberry32 } from "../core/prng.ts";

export { mulberry32 };

/** Emulation parameters, as the result JSON reports them. */
export interface EmulationParams {
  delay_us: number;
  jitter_us: number;
  loss: number;
  seed: number;
  distribution: "uniform";
  /** The emulated clock offset (this node's clock minus true time), µs; only when given. */
  offset_us?: number;
}

const KEYS = ["delay", "jitter", "loss", "seed", "offset"] as const;

/**
 * Parses an `--emulate` spec; throws {@link UsageError} naming the bad key.
 * `random` supplies the seed when the spec has none.
 */
export function parseEmulation(
  text: string,
  opts: { random?: () => number } = {},
): EmulationParams {
  const flag = `Flag "--emulate"`;
  const seen = new Map<string, string>();
  for (const part of text.split(",").map((s) => s.trim())) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    if (eq < 0) throw new UsageError(`${flag}: "${part}" is not KEY=VALUE`);
    const key = part.slice(0, eq).trim(), value = part.slice(eq + 1).trim();
    if (!(KEYS as readonly string[]).includes(key)) {
      throw new UsageError(
        `${flag}: unknown key "${key}" (known: ${KEYS.join(", ")})`,
      );
    }
    if (seen.has(key)) {
      throw new UsageError(`${flag}: key "${key}" given twice`);
    }
    seen.set(key, value);
  }
  if (seen.size === 0) {
    throw new UsageError(
      `${flag} needs KEY=VALUE pairs such as delay=300us,jitter=100us`,
    );
  }
  const duration = (key: string) => {
    const v = seen.get(key);
    if (v === undefined) return 0;
    try {
      return parseSeconds("emulate", v, { min: 0, max: MAX_EMULATED_S });
    } catch {
      throw new UsageError(
        `${flag}: key "${key}" needs a duration up to ${MAX_EMULATED_S} s such as 300us, got "${v}"`,
      );
    }
  };
  const delay = duration("delay"), jitter = duration("jitter");
  const offsetText = seen.get("offset");
  let offset = 0;
  if (offsetText !== undefined) {
    const minus = offsetText.startsWith("-");
    const abs = durationSeconds(minus ? offsetText.slice(1) : offsetText);
    if (abs === undefined || abs > MAX_EMULATED_S) {
      throw new UsageError(
        `${flag}: key "offset" needs a duration of at most ${MAX_EMULATED_S} s, ` +
          `signed, such as 300us or -1ms, got "${offsetText}"`,
      );
    }
    offset = minus ? -abs : abs;
  }
  if (delay + jitter > MAX_EMULATED_S) {
    throw new UsageError(
      `${flag}: keys "delay" + "jitter" must be at most ${MAX_EMULATED_S} s, got ${
        delay + jitter
      } s`,
    );
  }
  const lossText = seen.get("loss") ?? "0";
  const loss = Number(lossText);
  if (lossText === "" || !(loss >= 0 && loss <= 1)) {
    throw new UsageError(
      `${flag}: key "loss" needs a probability in 0..1, got "${lossText}"`,
    );
  }
  const seedText = seen.get("seed");
  let seed: number;
  if (seedText === undefined) {
    seed = Math.floor((opts.random ?? Math.random)() * 0x1_0000_0000) >>> 0;
  } else {
    seed = Number(seedText);
    if (!/^\d+$/.test(seedText) || seed > 0xffff_ffff) {
      throw new UsageError(
        `${flag}: key "seed" needs a whole number in 0..4294967295, got "${seedText}"`,
      );
    }
  }
  return {
    delay_us: Math.round(delay * 1e9) / 1e3,
    jitter_us: Math.round(jitter * 1e9) / 1e3,
    loss,
    seed,
    distribution: "uniform",
    ...(offsetText !== undefined
      ? { offset_us: Math.round(offset * 1e9) / 1e3 }
      : {}),
  };
}

/** Draws the fate of each datagram for one emulating node. */
export class Emulator {
  #next: () => number;
  #delayNs: number;
  #jitterNs: number;
  #loss: number;

  /** An emulator with `params`, its PRNG seeded from `params.seed`. */
  constructor(params: EmulationParams) {
    this.#next = mulberry32(params.seed);
    this.#delayNs = params.delay_us * 1e3;
    this.#jitterNs = params.jitter_us * 1e3;
    this.#loss = params.loss;
  }

  /** The extra delay of the next datagram in ns, or -1 when it is dropped. */
  next(): number {
    if (this.#loss > 0 && this.#next() < this.#loss) return -1;
    if (this.#jitterNs === 0) return this.#delayNs;
    const d = this.#delayNs + this.#jitterNs * (2 * this.#next() - 1);
    return d > 0 ? Math.round(d) : 0;
  }
}
