// Set before the first download starts a disk worker (workers copy the environment then).
process.env.VIDBATCH_DIRECT_IO = '0';
const { diskCases } = await import('./diskCases.js');

// The fallback for file systems that refuse O_DIRECT: the same results through the page cache.
diskCases('through the page cache');
