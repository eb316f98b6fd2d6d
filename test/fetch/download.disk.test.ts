import { diskCases } from './diskCases.js';

// Where the file system takes it (ext4, xfs…), video data goes to the disk with O_DIRECT.
diskCases('direct I/O where available');
