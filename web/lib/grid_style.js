// The pool grid's look, injected once per document by createPoolGrid.

export const GRID_CSS = `
.ppg { position: relative; display: flex; flex-direction: column; gap: 6px; min-height: 0; height: 100%;
  box-sizing: border-box; font: 12px/1.3 system-ui, sans-serif; color: inherit;
  outline: none; border-radius: 6px; }
.ppg:focus-visible { box-shadow: 0 0 0 2px #3a8ee6; }
.ppg.ppg-dragover { box-shadow: inset 0 0 0 2px #3a8ee6; background: #3a8ee614; }
.ppg-bar { display: flex; gap: 6px; align-items: center; flex-wrap: nowrap; min-height: 24px; }
.ppg-bar > * { flex: 0 0 auto; }
.ppg-tools { display: flex; gap: 6px; align-items: center; flex-wrap: nowrap; min-height: 24px; }
.ppg-tools > * { flex: 0 0 auto; }
.ppg-tools > .ppg-filter-box { flex: 0 1 auto; min-width: 0; }
.ppg-bar .ppg-count { opacity: 0.75; margin-left: auto; }
.ppg-notice { margin: 0; padding: 4px 8px; border-left: 3px solid #c90;
  background: #cc99001f; border-radius: 4px; }
.ppg-notice[hidden] { display: none; }
.ppg button { font: inherit; cursor: pointer; }
.ppg button:focus-visible, .ppg input:focus-visible { outline: 2px solid #3a8ee6;
  outline-offset: 1px; }
.ppg-upload { padding: 3px 10px; border-radius: 4px; border: 1px solid #8886;
  background: #8882; color: inherit; }
.ppg-cells { list-style: none; margin: 0; padding: 2px; display: grid; gap: 6px;
  grid-template-columns: repeat(auto-fill, minmax(var(--ppg-cell, 104px), 1fr));
  overflow-y: auto; min-height: 0; flex: 1 1 auto; align-content: start; }
.ppg-cell { position: relative; display: flex; flex-direction: column; gap: 2px;
  border: 2px solid transparent; border-radius: 6px; padding: 2px; background: #8881;
  content-visibility: auto; contain-intrinsic-size: auto 130px; }
.ppg-cell.ppg-active { border-color: #3a8ee6; background: #3a8ee622; }
.ppg-cell.ppg-drop-target { border-style: dashed; border-color: #e6a23a; }
.ppg-cell.ppg-dragging { opacity: 0.4; }
.ppg-thumb { display: block; padding: 0; margin: 0; border: 0; background: #0002;
  border-radius: 4px; aspect-ratio: 1; width: 100%; overflow: hidden; }
.ppg-thumb img { display: block; width: 100%; height: 100%; object-fit: contain; }
.ppg-badge { position: absolute; top: 4px; left: 4px; font-size: 10px; padding: 0 4px;
  border-radius: 3px; background: #000b; color: #fff; pointer-events: none; }
.ppg-maskdot { position: absolute; top: 6px; right: 24px; width: 8px; height: 8px;
  border-radius: 50%; background: #e6a23a; box-shadow: 0 0 0 1px #000a; }
.ppg-tool { position: absolute; top: 3px; width: 18px; height: 18px; padding: 0;
  line-height: 16px; border-radius: 3px; border: 0; background: #000b; color: #fff;
  font-size: 11px; opacity: 0.8; }
.ppg-tool:hover, .ppg-tool:focus-visible { opacity: 1; }
.ppg-delete { right: 3px; }
.ppg-brush { right: 24px; top: 24px; }
.ppg-label { width: 100%; box-sizing: border-box; font: inherit; padding: 1px 3px;
  border: 1px solid transparent; border-radius: 3px; background: transparent;
  color: inherit; }
.ppg-label:hover { border-color: #8885; }
.ppg-label:focus { border-color: #3a8ee6; background: #0001; }
.ppg-empty { margin: 0; padding: 18px 8px; text-align: center; opacity: 0.8;
  border: 1px dashed #8886; border-radius: 6px; }
.ppg-empty[hidden] { display: none; }
/* Upload progress floats over the bottom of the grid: it never moves the thumbnails. */
.ppg > .ppu-list { position: absolute; left: 6px; right: 6px; bottom: 6px; z-index: 2;
  max-height: 40%; overflow-y: auto; padding: 4px; border-radius: 6px;
  background: var(--comfy-menu-bg, Canvas); box-shadow: 0 2px 8px #0006; }
/* Nothing in flight (rows gone or hidden): no empty box over the labels. */
.ppg > .ppu-list:not(:has(> li:not([hidden]))) { display: none; }
`;
