/**
 * A UDP socket over libc (see `layout.ts` for the structs): bind, blocking
 * `recvmmsg` into a fixed ring of buffers with kernel timestamps, and
 * `sendmmsg` from a prepared list of messages. Everything the hot loops
 * touch is allocated once, in one large `ArrayBuffer` per object (large
 * buffers live outside the JS heap, so their addresses never move);
 * pointers are written as two u32 halves, keeping BigInt out of the loops.
 *
 * IPv4 only.
 *
 * @module
 */
import type { Libc } from "./libc.ts";

const TWO_32 = 4294967296;

/** An IPv4 address and port. */
export interface Ip4Addr {
  hostname: string;
  port: number;
}

/** The address of `arr`'s first byte as u32 halves (setup only). */
function _addr(arr: Uint8Array): [lo: number, hi: number] {
  const p = Deno.UnsafePointer.of(arr as Uint8Array<ArrayBuffer>);
  const v = BigInt(Deno.UnsafePointer.value(p));
  return [Number(v & 0xffff_ffffn), Number(v >> 32n)];
}

function _setPtr(v: DataView, off: number, lo: number, hi: number): void {
  v.setUint32(off, lo, true);
  v.setUint32(off + 4, hi, true);
}

/** Writes `a` as a `sockaddr_in` at `off` of `v`. */
export function writeSockaddrIn(v: DataView, off: number, a: Ip4Addr): void {
  const parts = a.hostname.split(".").map(Number);
  if (
    parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p > 255)
  ) {
    throw new Error(`Native I/O needs an IPv4 address, got "${a.hostname}"`);
  }
  for (let i = 0; i < 16; i++) v.setUint8(off + i, 0);
  v.setUint16(off, 2, true); // AF_INET
  v.setUint16(off + 2, a.port, false);
  parts.forEach((p, i) => v.setUint8(off + 4 + i, p));
}

/** Reads a `sockaddr_in` at `off` of `v`. */
export function readSockaddrIn(v: DataView, off: number): Ip4Addr {
  const ip = [0, 1, 2, 3].map((i) => v.getUint8(off + 4 + i)).join(".");
  return { hostname: ip, port: v.getUint16(off + 2, false) };
}

/** A bound UDP socket; the thread that bound it owns (closes) it, others {@link adopt} it. */
export class NativeUdp {
  readonly fd: number;
  readonly libc: Libc;
  /** Whether the kernel stamps every datagram (SO_TIMESTAMPNS took). */
  readonly kernelTs: boolean;

  private constructor(libc: Libc, fd: number, kernelTs: boolean) {
    this.libc = libc;
    this.fd = fd;
    this.kernelTs = kernelTs;
  }

  /** The socket `fd`, bound by another thread, for use on this one. */
  static adopt(libc: Libc, fd: number, kernelTs: boolean): NativeUdp {
    return new NativeUdp(libc, fd, kernelTs);
  }

  /**
   * Binds a socket at `at`, asking for kernel receive timestamps when
   * `timestamps` is set. Throws a `LibcError` ("bind: Address already
   * in use").
   */
  static bind(
    libc: Libc,
    at: Ip4Addr,
    o: { timestamps: boolean; bufBytes?: number },
  ): NativeUdp {
    const { abi, fn } = libc;
    const sa = new DataView(new ArrayBuffer(abi.SIZEOF_SOCKADDR_IN));
    writeSockaddrIn(sa, 0, at);
    const fd = fn.socket(abi.AF_INET, abi.SOCK_DGRAM | abi.SOCK_CLOEXEC, 0);
    if (fd < 0) throw libc.failure("socket");
    try {
      if (o.bufBytes) {
        const n = new Int32Array([o.bufBytes]);
        fn.setsockopt(fd, abi.SOL_SOCKET, abi.SO_RCVBUF, n, 4);
        fn.setsockopt(fd, abi.SOL_SOCKET, abi.SO_SNDBUF, n, 4);
      }
      const on = new Int32Array([1]);
      const kernelTs = o.timestamps &&
        fn.setsockopt(fd, abi.SOL_SOCKET, abi.SO_TIMESTAMPNS, on, 4) === 0;
      if (fn.bind(fd, new Uint8Array(sa.buffer), sa.byteLength) !== 0) {
        throw libc.failure("bind");
      }
      return new NativeUdp(libc, fd, kernelTs);
    } catch (e) {
      fn.close(fd);
      throw e;
    }
  }

  /** Bounds every blocking receive to `ms` (SO_RCVTIMEO), so that the loop can look at its stop flag. */
  recvTimeout(ms: number): void {
    const { abi, fn } = this.libc;
    const tv = new BigInt64Array([
      BigInt(Math.floor(ms / 1000)),
      BigInt(Math.round((ms % 1000) * 1000)),
    ]);
    if (
      fn.setsockopt(
        this.fd,
        abi.SOL_SOCKET,
        abi.SO_RCVTIMEO,
        new Uint8Array(tv.buffer),
        16,
      ) !== 0
    ) throw this.libc.failure("setsockopt(SO_RCVTIMEO)");
  }

  /** The bound address. */
  local(): Ip4Addr {
    const sa = new Uint8Array(this.libc.abi.SIZEOF_SOCKADDR_IN);
    const len = new Uint32Array([sa.length]);
    if (this.libc.fn.getsockname(this.fd, sa, len) !== 0) {
      throw this.libc.failure("getsockname");
    }
    return readSockaddrIn(new DataView(sa.buffer), 0);
  }

  close(): void {
    this.libc.fn.close(this.fd);
  }
}

/** `slots` receive buffers of `bytes` each, with their `mmsghdr`s and timestamp control buffers. */
export class RecvRing {
  readonly slots: number;
  /** One DataView per slot, over its data. */
  readonly views: DataView[] = [];
  /** Kernel timestamp of the last slot read by {@link stamp}: realtime s and ns. */
  sec = -1;
  nsec = 0;
  #mm: Uint8Array;
  #mv: DataView;
  #ctlOff: number;
  #nameOff: number;
  /** Each slot's source address (`sockaddr_in`), for a reply. */
  #names: Uint8Array[] = [];
  #sock: NativeUdp;

  /** A ring for `sock`. */
  constructor(sock: NativeUdp, slots: number, bytes: number) {
    const abi = sock.libc.abi;
    this.slots = slots;
    this.#sock = sock;
    const mmOff = 0;
    const iovOff = slots * abi.SIZEOF_MMSGHDR;
    this.#ctlOff = iovOff + slots * abi.SIZEOF_IOVEC;
    this.#nameOff = this.#ctlOff + slots * abi.CMSG_SPACE_TIMESPEC;
    const dataOff = this.#nameOff + slots * abi.SIZEOF_SOCKADDR_IN;
    const arena = new Uint8Array(Math.max(dataOff + slots * bytes, 1 << 16));
    const v = new DataView(arena.buffer);
    const [lo, hi] = _addr(arena);
    const ptr = (off: number) => {
      const l = lo + off;
      return [l % TWO_32, hi + Math.floor(l / TWO_32)] as const;
    };
    for (let i = 0; i < slots; i++) {
      const m = mmOff + i * abi.SIZEOF_MMSGHDR;
      const iov = iovOff + i * abi.SIZEOF_IOVEC;
      const data = dataOff + i * bytes;
      _setPtr(v, iov, ...ptr(data));
      v.setUint32(iov + 8, bytes, true);
      _setPtr(v, m + abi.MSG_IOV, ...ptr(iov));
      v.setUint32(m + abi.MSG_IOVLEN, 1, true);
      const name = this.#nameOff + i * abi.SIZEOF_SOCKADDR_IN;
      _setPtr(v, m + abi.MSG_NAME, ...ptr(name));
      this.#names.push(arena.subarray(name, name + abi.SIZEOF_SOCKADDR_IN));
      if (sock.kernelTs) {
        _setPtr(
          v,
          m + abi.MSG_CONTROL,
          ...ptr(this.#ctlOff + i * abi.CMSG_SPACE_TIMESPEC),
        );
      }
      this.views.push(new DataView(arena.buffer, data, bytes));
    }
    this.#mm = arena.subarray(0, iovOff);
    this.#mv = v;
  }

  /**
   * Blocks until datagrams arrive (or the socket's receive timeout passes),
   * taking up to `slots`; returns how many (0 on timeout or EINTR), or
   * throws on another error.
   */
  recv(): number {
    return this.#recv(this.#sock.libc.abi.MSG_WAITFORONE);
  }

  /** Takes what has arrived without blocking (up to `slots`); returns how many, or throws on an error. */
  recvNow(): number {
    return this.#recv(this.#sock.libc.abi.MSG_DONTWAIT);
  }

  #recv(flags: number): number {
    const { abi, fn } = this.#sock.libc;
    const v = this.#mv;
    const ts = this.#sock.kernelTs;
    for (let i = 0; i < this.slots; i++) {
      // The kernel rewrites msg_namelen and msg_controllen on every call.
      const m = i * abi.SIZEOF_MMSGHDR;
      v.setUint32(m + abi.MSG_NAMELEN, abi.SIZEOF_SOCKADDR_IN, true);
      if (ts) {
        v.setUint32(m + abi.MSG_CONTROLLEN, abi.CMSG_SPACE_TIMESPEC, true);
      }
    }
    const n = fn.recvmmsg(this.#sock.fd, this.#mm, this.slots, flags, null);
    if (n >= 0) return n;
    const e = this.#sock.libc.errno();
    if (e === abi.EAGAIN || e === abi.EINTR) return 0;
    throw this.#sock.libc.failure("recvmmsg");
  }

  /** Slot `i`'s source address (allocates: for the rare echo, not per datagram). */
  source(i: number): Ip4Addr {
    const n = this.#names[i]!;
    return readSockaddrIn(new DataView(n.buffer, n.byteOffset, n.length), 0);
  }

  /** Slot `i`'s source IPv4 address as a u32 (no allocation: for every datagram). */
  sourceIp4(i: number): number {
    return this.#mv.getUint32(this.#nameAt(i) + 4, false);
  }

  /** Slot `i`'s source port (no allocation). */
  sourcePort(i: number): number {
    return this.#mv.getUint16(this.#nameAt(i) + 2, false);
  }

  #nameAt(i: number): number {
    return this.#nameOff + i * this.#sock.libc.abi.SIZEOF_SOCKADDR_IN;
  }

  /** Sends the first `len` bytes of `data` to slot `i`'s source from this socket; false when it failed. */
  reply(i: number, data: Uint8Array, len: number): boolean {
    const { fn } = this.#sock.libc;
    const n = this.#names[i]!;
    const sent = fn.sendto(this.#sock.fd, data, BigInt(len), 0, n, n.length);
    return Number(sent) === len;
  }

  /** Bytes received in slot `i`. */
  length(i: number): number {
    const abi = this.#sock.libc.abi;
    return this.#mv.getUint32(i * abi.SIZEOF_MMSGHDR + abi.MMSG_LEN, true);
  }

  /** Reads slot `i`'s kernel timestamp into {@link sec}/{@link nsec}; false (sec -1) when it has none. */
  stamp(i: number): boolean {
    this.sec = -1;
    if (!this.#sock.kernelTs) return false;
    const abi = this.#sock.libc.abi, v = this.#mv;
    const m = i * abi.SIZEOF_MMSGHDR;
    if (v.getUint32(m + abi.MSG_CONTROLLEN, true) < abi.CMSG_SPACE_TIMESPEC) {
      return false;
    }
    const c = this.#ctlOff + i * abi.CMSG_SPACE_TIMESPEC;
    if (
      v.getInt32(c + abi.CMSG_LEVEL, true) !== abi.SOL_SOCKET ||
      v.getInt32(c + abi.CMSG_TYPE, true) !== abi.SCM_TIMESTAMPNS
    ) return false;
    const d = c + abi.CMSG_HDR;
    this.sec = v.getUint32(d, true) + v.getUint32(d + 4, true) * TWO_32;
    this.nsec = v.getUint32(d + 8, true);
    return true;
  }
}

/**
 * Up to `max` outgoing messages for one `sendmmsg`: each names one of the
 * `targets` and one of the `buffers` (set per call with {@link set}).
 */
export class SendList {
  #sock: NativeUdp;
  #mv: DataView;
  #views: Uint8Array[] = [];
  #names: [number, number][] = [];
  #iovs: [number, number][] = [];
  #iovLen: number[] = [];
  #iovOff: number;

  /** A list for `sock` to `targets`, sending from `buffers` (all preallocated by the caller). */
  constructor(
    sock: NativeUdp,
    targets: readonly Ip4Addr[],
    buffers: readonly DataView[],
    max: number,
  ) {
    const abi = sock.libc.abi;
    this.#sock = sock;
    const namesOff = max * abi.SIZEOF_MMSGHDR;
    this.#iovOff = namesOff + targets.length * abi.SIZEOF_SOCKADDR_IN;
    const end = this.#iovOff + buffers.length * abi.SIZEOF_IOVEC;
    const arena = new Uint8Array(Math.max(end, 1 << 16));
    const v = new DataView(arena.buffer);
    const [lo, hi] = _addr(arena);
    const ptr = (off: number): [number, number] => {
      const l = lo + off;
      return [l % TWO_32, hi + Math.floor(l / TWO_32)];
    };
    targets.forEach((t, j) => {
      const off = namesOff + j * abi.SIZEOF_SOCKADDR_IN;
      writeSockaddrIn(v, off, t);
      this.#names.push(ptr(off));
    });
    buffers.forEach((b, k) => {
      const off = this.#iovOff + k * abi.SIZEOF_IOVEC;
      const base = Deno.UnsafePointer.value(
        Deno.UnsafePointer.of(b as DataView<ArrayBuffer>),
      );
      v.setBigUint64(off, BigInt(base), true);
      v.setUint32(off + 8, b.byteLength, true);
      this.#iovs.push(ptr(off));
      this.#iovLen.push(b.byteLength);
    });
    for (let e = 0; e < max; e++) {
      const m = e * abi.SIZEOF_MMSGHDR;
      v.setUint32(m + abi.MSG_NAMELEN, abi.SIZEOF_SOCKADDR_IN, true);
      v.setUint32(m + abi.MSG_IOVLEN, 1, true);
      this.#views.push(arena.subarray(m, namesOff));
    }
    this.#mv = v;
  }

  /** Message `e` sends `len` bytes of buffer `k` to target `j`. */
  set(e: number, j: number, k: number, len: number): void {
    const abi = this.#sock.libc.abi, v = this.#mv;
    const m = e * abi.SIZEOF_MMSGHDR;
    const n = this.#names[j]!, iov = this.#iovs[k]!;
    _setPtr(v, m + abi.MSG_NAME, n[0], n[1]);
    _setPtr(v, m + abi.MSG_IOV, iov[0], iov[1]);
    if (len !== this.#iovLen[k]) {
      this.#iovLen[k] = len;
      v.setUint32(this.#iovOff + k * abi.SIZEOF_IOVEC + 8, len, true);
    }
  }

  /** Sends messages 0..count-1 (a blocking socket: waits for buffer space); returns how many failed. */
  send(count: number): number {
    const { fn } = this.#sock.libc;
    let e = 0, failed = 0;
    while (e < count) {
      const n = fn.sendmmsg(this.#sock.fd, this.#views[e]!, count - e, 0);
      if (n > 0) e += n;
      else { // the message at e failed: count it, skip it
        failed++;
        e++;
      }
    }
    return failed;
  }
}
