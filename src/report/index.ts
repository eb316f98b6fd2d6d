export { writeGallery, GALLERY_FILE, type GalleryOptions, type GalleryResult } from './gallery.js';
export { buildGallery, chooseAxes, type GalleryData, type GalleryItem, type GalleryDimension } from './model.js';
export { renderGalleryHtml, escapeHtml, jsonForScript } from './html.js';
export { makePosters, hasFfmpeg, POSTER_DIR, type PosterOptions } from './posters.js';
export { formatExport, toCsv, toJsonl, exportRecord, csvCell, neutraliseCell, EXPORT_FORMATS, type ExportFormat, type ExportRecord } from './export.js';
