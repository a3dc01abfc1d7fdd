"""The ComfyUI adapter: the only place that imports ComfyUI's modules (folder_paths,
server, nodes), always lazily, so the rest of the pack runs without ComfyUI."""
