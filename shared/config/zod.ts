/**
 * zod, as the project's schemas use it: `zod/mini`, the tree-shakable build of zod 4 (the same core,
 * checks and issues as `zod`, functions instead of methods: about 75 KB less in each Lambda bundle
 * and a faster cold start, as classic schemas attach every method at construction). `zod/mini`
 * loads no locale, so this module sets zod's English messages, as classic `zod` does on its own.
 * It is listed under `sideEffects` in package.json so bundlers keep that call.
 *
 * Import it as `import * as z from '…/config/zod.ts'`.
 */
import { config } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

config(en());

export * from 'zod/mini';
/** The class of every zod error, classic or mini (for `instanceof`; `z.core` would pull in all of zod's core). */
export { $ZodError } from 'zod/v4/core';
