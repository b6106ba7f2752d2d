/**
 * The checks `codec.ts` runs on decoded fields beyond the schema's shape:
 * a hello's boot id, the run fields (a run id, its roster key and tags: their
 * sizes; absent where empty, so a message of no run encodes as before they
 * existed; relay ports: ports) and the hosts a command carries (they become
 * probe flags). Their own structural types, so this module imports nothing
 * of the codec's.
 *
 * @module
 */

/** Makes the decode error a check throws. */
type Fail = (desc: string) => Error;

/** The run fields of a hello and a command, as far as these checks read them. */
interface RunCarriers {
  hello?:
    | { run?: string; rosterKey?: Uint8Array; relayPort?: number }
    | undefined;
  command?:
    | { run?: string; rosterTags?: Uint8Array; relayPorts?: number[] }
    | undefined;
}

/** A subtree's hosts, as far as {@link checkHosts} reads them. */
interface HostTree {
  hedges?: string[];
  hedgeSenders?: string[];
  children: HostTree[];
}

/** The length of a run's roster key. */
export const ROSTER_KEY_BYTES = 32;
/** The length of one roster tag in `Command.rosterTags`. */
export const ROSTER_TAG_BYTES = 8;
/** The longest run id. */
export const RUN_ID_MAX = 32;

/** The longest boot id a hello may carry (Linux's is 36 characters). */
export const BOOT_ID_MAX = 64;

/** Whether `s` can be a hello's boot id: "" or up to {@link BOOT_ID_MAX} printable ASCII characters. */
export function validBootId(s: string): boolean {
  return s.length <= BOOT_ID_MAX && /^[\x21-\x7e]*$/.test(s);
}

/** A hello's boot id is "" or up to {@link BOOT_ID_MAX} printable characters. */
export function checkHello(
  hello: { bootId?: string } | undefined,
  fail: Fail,
): void {
  const boot = hello?.bootId ?? "";
  if (!validBootId(boot)) {
    throw fail(
      `hello.bootId is not up to ${BOOT_ID_MAX} printable ASCII characters ` +
        `(${boot.length} characters)`,
    );
  }
}

/**
 * A command's senders and its subtrees' hedge senders are hosts (they become
 * a probe flag's value: a host, nothing else); empty hedge lists are dropped,
 * as the manager's trees give them (`manager/tree.ts`).
 */
export function checkHosts(
  type: string,
  cmd: { senders: string[]; subtrees: HostTree[] },
  fail: Fail,
): void {
  const hosts = (list: string[], path: string) =>
    list.forEach((h, i) => {
      if (!_isHost(h)) {
        throw fail(`${type} message: ${path}[${i}] "${h}" is not a host`);
      }
    });
  hosts(cmd.senders, "command.senders");
  const visit = (t: HostTree, path: string): void => {
    hosts(t.hedgeSenders ?? [], `${path}.hedgeSenders`);
    if (t.hedges?.length === 0) delete t.hedges;
    if (t.hedgeSenders?.length === 0) delete t.hedgeSenders;
    t.children.forEach((c, j) => visit(c, `${path}.children[${j}]`));
  };
  cmd.subtrees.forEach((t, i) => visit(t, `command.subtrees[${i}]`));
}

/**
 * `msg` without its run fields where they are empty, so that a message of no
 * run encodes to the same bytes as before they existed.
 */
export function unsetRun<D extends RunCarriers>(data0: D): D {
  const { hello, command } = data0;
  if (!hello && !command) return data0;
  const data = { ...data0 };
  if (hello) {
    const { run, rosterKey, ...rest } = hello;
    data.hello = {
      ...rest,
      ...(run ? { run } : {}),
      ...(rosterKey?.length ? { rosterKey } : {}),
    };
  }
  if (command) {
    const { run, rosterTags, ...rest } = command;
    data.command = {
      ...rest,
      ...(run ? { run } : {}),
      ...(rosterTags?.length ? { rosterTags } : {}),
    };
  }
  return data;
}

/**
 * The run fields of a hello or command have their sizes (see
 * `treecast.proto`), their relay ports are ports.
 */
export function checkRun(data: RunCarriers, fail: Fail): void {
  const { hello, command } = data;
  _checkRelayPorts(data, fail);
  for (
    const [field, run] of [["hello.run", hello?.run], [
      "command.run",
      command?.run,
    ]] as const
  ) {
    if (run !== undefined && !/^[\x21-\x7e]{0,32}$/.test(run)) {
      throw fail(
        `${field} is not up to ${RUN_ID_MAX} printable ASCII characters`,
      );
    }
  }
  // A manager's fields only: absent from a worker's hello (and its results).
  if (hello && !hello.run) delete hello.run;
  if (hello && !hello.rosterKey?.length) delete hello.rosterKey;
  // Plain byte arrays (protobufjs gives Buffers).
  if (hello?.rosterKey) hello.rosterKey = _bytes(hello.rosterKey);
  if (command?.rosterTags) command.rosterTags = _bytes(command.rosterTags);
  const key = hello?.rosterKey?.length ?? 0;
  if (key !== 0 && key !== ROSTER_KEY_BYTES) {
    throw fail(
      `hello.rosterKey has ${key} bytes, not ${ROSTER_KEY_BYTES}`,
    );
  }
  const tags = command?.rosterTags?.length ?? 0;
  if (tags % ROSTER_TAG_BYTES !== 0) {
    throw fail(
      `command.rosterTags has ${tags} bytes, not a multiple of ${ROSTER_TAG_BYTES}`,
    );
  }
}

/**
 * A hello's relay port and a command's relay ports are ports (at most
 * 65535); a hello without one has none (absent, as before it existed).
 */
function _checkRelayPorts(data: RunCarriers, fail: Fail): void {
  const { hello, command } = data;
  if (hello && !hello.relayPort) delete hello.relayPort;
  if ((hello?.relayPort ?? 0) > 65535) {
    throw fail(`hello.relayPort ${hello!.relayPort} is not a port`);
  }
  const bad = (command?.relayPorts ?? []).findIndex((p) => p > 65535);
  if (bad >= 0) {
    throw fail(
      `command.relayPorts[${bad}] ${command!.relayPorts![bad]} is not a port`,
    );
  }
}

function _bytes(b: Uint8Array): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** An IP address or a DNS name, at most 253 characters. */
function _isHost(text: string): boolean {
  return text.length <= 253 &&
    (/^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(text) ||
      /^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*$/.test(text));
}
