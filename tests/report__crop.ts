import { decode, encode } from "fast-png";
const [src, outPrefix, hStr] = Deno.args;
const img = decode(Deno.readFileSync(src!));
const h = Number(hStr ?? 1400);
const ch = img.channels;
for (let y0 = 0, k = 0; y0 < img.height; y0 += h, k++) {
  const hh = Math.min(h, img.height - y0);
  const data = (img.data as Uint8Array).slice(
    y0 * img.width * ch,
    (y0 + hh) * img.width * ch,
  );
  Deno.writeFileSync(
    `${outPrefix}${k}.png`,
    encode({ width: img.width, height: hh, data, channels: ch, depth: 8 }),
  );
  console.log(`${outPrefix}${k}.png`);
}
