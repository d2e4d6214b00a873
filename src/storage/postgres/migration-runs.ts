/**
 * The PostgreSQL store's migration 16 (MIGRATIONS in migration-steps.ts appends it), as SQLite's
 * 19: a run's row keeps references to its steps' agent_output artifacts, not their outputs
 * (docs/decisions/0057); the outputs rows written before hold — the run's own and each step's —
 * are removed. A body jsonb cannot hold (a string with a NUL) is left as it is: the code drops
 * the outputs it finds in a row when it reads it.
 */
export const RUN_OUTPUTS_MIGRATION = `
  DO $$
  DECLARE r record;
  BEGIN
    FOR r IN SELECT id, body FROM runs WHERE body LIKE '%"output"%' LOOP
      BEGIN
        UPDATE runs SET body = (
          SELECT ((b - 'output') || jsonb_build_object('steps', COALESCE(
            (SELECT jsonb_agg(step - 'output' ORDER BY n)
               FROM jsonb_array_elements(b -> 'steps') WITH ORDINALITY AS s(step, n)),
            '[]'::jsonb)))::text
          FROM (SELECT r.body::jsonb AS b) AS parsed
        ) WHERE id = r.id;
      EXCEPTION WHEN others THEN
        NULL;
      END;
    END LOOP;
  END $$;
  `;
