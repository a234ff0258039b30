// Loads the compiled addon (build/Release/electra_native.node) once.
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

export interface NativeInfo {
  isa: string;
  detectedIsa: string;
  threads: number;
  /** Instruction sets the build has kernels for: only 'scalar' (portable C++) off x86-64. */
  compiledIsas: string[];
}

/** Functions common to the whole addon; kernel files declare their own entry points. */
export interface NativeAddonBase {
  info(): NativeInfo;
  setThreads(n: number): number;
  setIsa(name: string): string;
  /** Bytes from the last 64-byte boundary to the array's first element. */
  cacheLineOffset(a: ArrayBufferView): number;
}

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
export const addonPath = join(packageRoot, 'build', 'Release', 'electra_native.node');

/** The addon with the named entry points of a kernel file, or an error saying to rebuild it. */
export function requireEntryPoints<T>(addon: NativeAddonBase, names: readonly (keyof T & string)[]): NativeAddonBase & T {
  const candidate = addon as unknown as Record<string, unknown>;
  for (const name of names) {
    if (typeof candidate[name] !== 'function') {
      throw new Error(`the native addon has no '${name}' entry point: rebuild it (npm install)`);
    }
  }
  return addon as NativeAddonBase & T;
}

let cached: { addon: NativeAddonBase | null; error: string | null } | undefined;

/** The addon, or null with the reason it could not be loaded. */
export function loadAddon(): { addon: NativeAddonBase | null; error: string | null } {
  if (cached) return cached;
  try {
    if (!existsSync(addonPath)) {
      const note = join(packageRoot, 'build', 'native-build-failed.txt');
      const why = existsSync(note) ? readFileSync(note, 'utf8').trim() : 'not built';
      cached = { addon: null, error: `${addonPath} is missing (${why})` };
    } else {
      const require = createRequire(import.meta.url);
      cached = { addon: require(addonPath) as NativeAddonBase, error: null };
    }
  } catch (err) {
    cached = { addon: null, error: err instanceof Error ? err.message : String(err) };
  }
  return cached;
}
