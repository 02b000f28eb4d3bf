import fs from 'node:fs';
import path from 'node:path';

/** config/default.json as shipped, read from the repository root. */
export function readDefaultConfig(): Record<string, unknown> {
  const file = path.join(__dirname, '..', '..', '..', 'config', 'default.json');
  return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export function mergeDeep(...layers: Obj[]): Obj {
  const out: Obj = {};
  for (const layer of layers) {
    for (const [k, v] of Object.entries(layer)) {
      out[k] = isObj(v) && isObj(out[k]) ? mergeDeep(out[k], v) : v;
    }
  }
  return out;
}
