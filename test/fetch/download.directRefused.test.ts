// Set before the first download starts a disk worker (workers copy the environment then):
// O_DIRECT is taken at open, then the second direct write of each file is refused with
// EINVAL (as some FUSE and network file systems do). The file goes on through the page
// cache from there, nothing written before is lost, and it ends at its last byte.
process.env.VIDBATCH_TEST_DIRECT_WRITES = '1';
const { diskCases } = await import('./diskCases.js');

diskCases('direct I/O refused after the first write');
