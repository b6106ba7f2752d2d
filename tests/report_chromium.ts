/**
 * Headless Chromium for the report's browser check: install Debian's
 * package when missing, start it with a DevTools port, and drive one page
 * over the DevTools protocol (Deno's built-in WebSocket): console errors,
 * network requests and a screenshot. Only local files and loopback.
 *
 * @module
 */

const CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser"];

async function _exists(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

async function _run(cmd: string, args: string[]): Promise<string | undefined> {
  try {
    const r = await new Deno.Command(cmd, {
      args,
      stdout: "piped",
      stderr: "piped",
      env: { DEBIAN_FRONTEND: "noninteractive" },
    }).output();
    if (r.success) return undefined;
    const err = new TextDecoder().decode(r.stderr).trim().split("\n").slice(-3)
      .join(" | ");
    return `"${cmd} ${args.join(" ")}" exited ${r.code}: ${err}`;
  } catch (e) {
    return `"${cmd}" could not start: ${(e as Error).message}`;
  }
}

/** What to install when there is no Chromium, and why it could not be had. */
function _missing(why: string): Error {
  return new Error(
    "The report's browser check needs Chromium: install Debian's `chromium` " +
      "(`apt-get install chromium`) or set CHROMIUM=/path/to/chromium. " + why,
  );
}

let found: Promise<string> | null = null;

/**
 * The path of a Chromium executable (`$CHROMIUM`, else the usual paths),
 * installing Debian's `chromium` with apt-get when there is none (waiting
 * for the dpkg lock if another install holds it). Once per process. Rejects,
 * naming what to install, when it cannot.
 */
export function ensureChromium(): Promise<string> {
  found ??= _ensure();
  return found;
}

async function _ensure(): Promise<string> {
  const env = Deno.env.get("CHROMIUM");
  if (env) {
    if (await _exists(env)) return env;
    throw _missing(`CHROMIUM="${env}" is not a file.`);
  }
  for (const p of CANDIDATES) if (await _exists(p)) return p;
  const lock = ["-o", "DPkg::Lock::Timeout=300"];
  const update = await _run("apt-get", [...lock, "update", "-qq"]);
  if (update) throw _missing(update);
  const install = await _run("apt-get", [
    ...lock,
    "install",
    "-y",
    "-qq",
    "chromium",
  ]);
  if (install) throw _missing(install);
  for (const p of CANDIDATES) if (await _exists(p)) return p;
  throw _missing("apt-get installed chromium, but no executable was found.");
}

/** What a page did while it loaded. */
export interface PageCheck {
  /** Exceptions, console errors and error log entries. */
  errors: string[];
  /** Every URL the page requested. */
  requests: string[];
  /** A PNG screenshot of the viewport (or the whole page). */
  png: Uint8Array;
}

/** Options of {@link checkPage}. */
export interface CheckOptions {
  width?: number;
  height?: number;
  /** Capture the whole page rather than the viewport. */
  fullPage?: boolean;
  /** Give up after this long, ms. */
  timeoutMs?: number;
}

/** Opens `url` in headless Chromium and reports what happened. */
export async function checkPage(
  chromium: string,
  url: string,
  opts: CheckOptions = {},
): Promise<PageCheck> {
  const width = opts.width ?? 1200, height = opts.height ?? 2000;
  const profile = await Deno.makeTempDir({ prefix: "treecast-chromium-" });
  const child = new Deno.Command(chromium, {
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--no-default-browser-check",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-extensions",
      "--disable-dev-shm-usage",
      "--remote-debugging-address=127.0.0.1",
      "--remote-debugging-port=0",
      `--user-data-dir=${profile}`,
      `--window-size=${width},${height}`,
      "about:blank",
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const timeout = AbortSignal.timeout(opts.timeoutMs ?? 45_000);
  let cdp: Cdp | undefined;
  try {
    const ws = await _devtoolsUrl(child.stderr, timeout);
    cdp = await Cdp.open(ws);
    return await _drive(cdp, url, { width, height, ...opts }, timeout);
  } finally {
    cdp?.close();
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    await child.status;
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  }
}

async function _drive(
  cdp: Cdp,
  url: string,
  o: CheckOptions & { width: number; height: number },
  signal: AbortSignal,
): Promise<PageCheck> {
  const { targetId } = await cdp.send("Target.createTarget", {
    url: "about:blank",
  }) as { targetId: string };
  const { sessionId } = await cdp.send("Target.attachToTarget", {
    targetId,
    flatten: true,
  }) as { sessionId: string };
  const errors: string[] = [];
  const requests: string[] = [];
  cdp.on(sessionId, (method, p) => {
    // deno-lint-ignore no-explicit-any
    const params = p as Record<string, any>;
    if (method === "Runtime.exceptionThrown") {
      const d = params.exceptionDetails ?? {};
      errors.push(
        `exception: ${d.text ?? "?"} ${d.exception?.description ?? ""}`.trim(),
      );
    } else if (
      method === "Runtime.consoleAPICalled" && params.type === "error"
    ) {
      errors.push(
        `console.error: ${
          (params.args ?? []).map((a: { value?: unknown }) => String(a.value))
            .join(" ")
        }`,
      );
    } else if (method === "Log.entryAdded" && params.entry?.level === "error") {
      errors.push(`log: ${params.entry.text} ${params.entry.url ?? ""}`);
    } else if (method === "Network.requestWillBeSent") {
      requests.push(params.request?.url ?? "?");
    }
  });
  const s = (m: string, p: Record<string, unknown> = {}) =>
    cdp.send(m, p, sessionId);
  await Promise.all([
    s("Page.enable"),
    s("Runtime.enable"),
    s("Log.enable"),
    s("Network.enable"),
  ]);
  await s("Emulation.setDeviceMetricsOverride", {
    width: o.width,
    height: o.height,
    deviceScaleFactor: 1,
    mobile: false,
  });
  const loaded = cdp.next(sessionId, "Page.loadEventFired", signal);
  const nav = await s("Page.navigate", { url }) as { errorText?: string };
  if (nav.errorText) throw new Error(`Cannot open "${url}": ${nav.errorText}`);
  await loaded;
  // Let late console messages and requests arrive.
  await new Promise((r) => setTimeout(r, 300));
  let clip: Record<string, number> | undefined;
  if (o.fullPage) {
    const m = await s("Page.getLayoutMetrics") as {
      cssContentSize: { width: number; height: number };
    };
    clip = {
      x: 0,
      y: 0,
      width: o.width,
      height: Math.ceil(m.cssContentSize.height),
      scale: 1,
    };
  }
  const shot = await s("Page.captureScreenshot", {
    format: "png",
    ...(clip ? { clip, captureBeyondViewport: true } : {}),
  }) as { data: string };
  return {
    errors,
    requests,
    png: Uint8Array.from(atob(shot.data), (c) => c.charCodeAt(0)),
  };
}

/** Reads Chromium's stderr until it names its DevTools WebSocket. */
async function _devtoolsUrl(
  stderr: ReadableStream<Uint8Array>,
  signal: AbortSignal,
): Promise<string> {
  const reader = stderr.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  const onAbort = () => reader.cancel().catch(() => {});
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += value;
      const m = seen.match(/DevTools listening on (ws:\/\/\S+)/);
      if (m) {
        // Keep draining stderr so Chromium never blocks on a full pipe.
        (async () => {
          try {
            while (!(await reader.read()).done) { /* discard */ }
          } catch { /* cancelled */ }
        })();
        return m[1]!;
      }
    }
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
  throw new Error(
    `Chromium did not start its DevTools server: ${seen.slice(-500)}`,
  );
}

type Listener = (method: string, params: unknown) => void;

/** A minimal DevTools protocol client over one WebSocket. */
class Cdp {
  #ws: WebSocket;
  #id = 0;
  #pending = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void }
  >();
  #listeners = new Map<string, Set<Listener>>();

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.onmessage = (ev) => {
      const msg = JSON.parse(String(ev.data));
      if (msg.id !== undefined) {
        const p = this.#pending.get(msg.id);
        this.#pending.delete(msg.id);
        if (msg.error) p?.reject(new Error(`DevTools: ${msg.error.message}`));
        else p?.resolve(msg.result);
        return;
      }
      for (const l of this.#listeners.get(msg.sessionId ?? "") ?? []) {
        l(msg.method, msg.params);
      }
    };
  }

  static open(url: string): Promise<Cdp> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.onopen = () => resolve(new Cdp(ws));
      ws.onerror = () => reject(new Error(`Cannot connect to DevTools ${url}`));
    });
  }

  send(
    method: string,
    params: Record<string, unknown> = {},
    sessionId?: string,
  ): Promise<unknown> {
    const id = ++this.#id;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#ws.send(
        JSON.stringify({
          id,
          method,
          params,
          ...(sessionId ? { sessionId } : {}),
        }),
      );
    });
  }

  on(sessionId: string, l: Listener): void {
    const set = this.#listeners.get(sessionId) ?? new Set();
    set.add(l);
    this.#listeners.set(sessionId, set);
  }

  /** The next event `method` of the session. */
  next(sessionId: string, method: string, signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const l: Listener = (m) => {
        if (m !== method) return;
        this.#listeners.get(sessionId)?.delete(l);
        resolve();
      };
      this.on(sessionId, l);
      signal.addEventListener(
        "abort",
        () => reject(new Error(`Timed out waiting for ${method}`)),
        { once: true },
      );
    });
  }

  close(): void {
    for (const p of this.#pending.values()) p.reject(new Error("closed"));
    this.#pending.clear();
    this.#ws.close();
  }
}
