export { writeGallery, GALLERY_FILE, GALLERY_PAGE_SIZE, galleryPageFile, type GalleryOptions, type GalleryResult, type GalleryRows } from './gallery.js';
export { buildGallery, chooseAxes, GalleryScan, type GalleryData, type GalleryItem, type GalleryDimension, type GalleryPaging } from './model.js';
export { renderGalleryHtml, escapeHtml, jsonForScript, type GalleryPageLink } from './html.js';
export { makePosters, hasFfmpeg, POSTER_DIR, DEFAULT_POSTER_BUDGET_MS, type PosterOptions } from './posters.js';
export { formatExport, exportLines, toCsv, toJsonl, type ExportRows, exportRecord, csvCell, neutraliseCell, EXPORT_FORMATS, type ExportFormat, type ExportRecord } from './export.js';
