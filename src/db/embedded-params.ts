/**
 * PGlite's own start parameters, with smaller buffers than PostgreSQL's server defaults (128 MB of shared
 * buffers alone): the embedded database serves one laptop or one test run, and its memory is the app process's.
 */
export const EMBEDDED_START_PARAMS = [
  ...['--single', '-F', '-O', '-j'],
  ...[
    'search_path=public',
    'exit_on_error=false',
    'log_checkpoints=false',
    'max_worker_processes=0',
    'max_parallel_workers=0',
  ]
    .concat(['max_parallel_workers_per_gather=0', 'io_method=sync', 'max_parallel_maintenance_workers=0'])
    .concat(['shared_buffers=16MB', 'work_mem=2MB', 'maintenance_work_mem=16MB', 'temp_buffers=2MB'])
    .flatMap((setting) => ['-c', setting]),
];
