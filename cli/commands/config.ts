/**
 * `creditflow config [section] [--kind rl|preference|sweep]`: every config field with its type,
 * default and description, read from the zod schemas (configs/schema.ts, preference-schema.ts,
 * sweep-schema.ts), so the text is written once, in the schema.
 */
import { PreferenceExperimentSchema } from '../../configs/preference-schema.js';
import { ExperimentSchema } from '../../configs/schema.js';
import { SweepSchema } from '../../configs/sweep-schema.js';
import type { Options } from '../program.js';
import { UsageError } from '../program.js';
import { formatFields, schemaFields } from '../schema-fields.js';

const SCHEMAS = {
  rl: { schema: ExperimentSchema, title: 'RL experiment config (configs/schema.ts)', prefix: [] as string[] },
  preference: { schema: PreferenceExperimentSchema, title: 'offline preference config, kind: preference (configs/preference-schema.ts)', prefix: [] as string[] },
  sweep: { schema: SweepSchema, title: 'the sweep: section of a sweep file (configs/sweep-schema.ts)', prefix: ['sweep'] },
};

export async function execute([section]: unknown[], options: Options): Promise<number> {
  const { schema, title, prefix } = SCHEMAS[options.kind as keyof typeof SCHEMAS];
  const all = schemaFields(schema, prefix);
  const wanted = section as string | undefined;
  const fields = wanted === undefined ? all : all.filter((f) => f.path === wanted || f.path.startsWith(`${wanted}.`) || f.path.startsWith(`${wanted}[`));
  if (fields.length === 0) {
    const sections = [...new Set(all.filter((f) => f.section && !f.path.includes('.')).map((f) => f.path.replace(/\[.*/, '')))];
    throw new UsageError(`no field or section ${JSON.stringify(wanted)} in the ${options.kind} config; sections: ${sections.join(', ')}`);
  }
  process.stdout.write(`# ${title}${wanted ? `: ${wanted}` : ''}\n# field: type = default (set any of them in the YAML file, or as key.path=value on the command line)\n\n`);
  if (prefix.length) process.stdout.write(`${prefix.join('.')}:\n`);
  process.stdout.write(formatFields(fields, Math.max(60, Math.min(process.stdout.columns ?? 100, 120))));
  return 0;
}
