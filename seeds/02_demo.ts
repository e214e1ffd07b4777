import type { Knex } from 'knex';
import type { Clock } from '../src/clock.js';

/** Demo data of DESIGN §8 (placeholder: being written). */
export async function seed(_knex: Knex, _ctx: { clock: Clock }): Promise<void> {}
