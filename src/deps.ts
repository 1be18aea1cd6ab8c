/**
 * zod and fetch-cookie, loaded through CommonJS `require`.
 *
 * Why: the workflows start every script with tsx, whose loader resolves each ES module file of
 * a package through its hooks thread. zod 4 is about a hundred files and fetch-cookie pulls in
 * tough-cookie; as ES modules they cost ~110 ms and ~60 ms of every script's start-up, as
 * CommonJS ~65 ms and ~20 ms (measured with bench/hourly.ts, whose budget is 400 ms from process
 * start to first request). Same packages, same versions, same types.
 */
import { createRequire } from 'node:module';
import type { default as FetchCookie } from 'fetch-cookie';
import type { z as Zod } from 'zod';

const require = createRequire(import.meta.url);

/** zod's `z`, with the type namespace the code uses (`z.output<…>`, `z.ZodType`, …). */
export const z: typeof Zod = (require('zod') as { z: typeof Zod }).z;
// eslint-disable-next-line @typescript-eslint/no-namespace -- mirrors zod's own `z` namespace of types
export declare namespace z {
  export type output<T> = Zod.output<T>;
  export type input<T> = Zod.input<T>;
  export type infer<T> = Zod.infer<T>;
  export type ZodType<Output = unknown, Input = unknown> = Zod.ZodType<Output, Input>;
  export type ZodObject = Zod.ZodObject;
}

/** fetch-cookie's default export (with `.toughCookie`). */
export const makeFetchCookie: typeof FetchCookie = (require('fetch-cookie') as { default: typeof FetchCookie }).default;
