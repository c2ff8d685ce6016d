// WebPageStyle: the annotation page's stylesheet — a sidebar of tools and a stage of three stacked
// canvases (image, masks, prompts) scaled to fit the window, and a video's timeline under it.

enum WebPageStyle {
    static let text = #"""
        * { box-sizing: border-box; }
        body { margin: 0; display: flex; height: 100vh; font: 14px system-ui, sans-serif; color: #1d2330;
          background: #eef0f4; }
        #sidebar { width: 270px; flex: none; overflow-y: auto; overflow-x: hidden; padding: 12px; background: #fff;
          border-right: 1px solid #d5d9e0; }
        h1 { font-size: 17px; margin: 0 0 8px; }
        h2 { font-size: 12px; text-transform: uppercase; letter-spacing: .05em; color: #5b6475; margin: 14px 0 6px; }
        button, .button { display: inline-block; margin: 2px 2px 2px 0; padding: 5px 9px; font: inherit;
          border: 1px solid #b8bfcc;
          border-radius: 5px; background: #f6f7f9; cursor: pointer; }
        button:hover, .button:hover { background: #e5e9f0; }
        input#label { width: 100%; padding: 5px; font: inherit; }
        .list { list-style: none; margin: 0; padding: 0; max-height: 220px; overflow-y: auto; }
        .list li { display: flex; align-items: center; gap: 6px; padding: 3px 4px; border-radius: 4px; cursor: pointer;
          }
        .list li:hover { background: #eef2f8; }
        .list li.current { background: #dbe6fb; font-weight: 600; }
        .list .swatch { width: 12px; height: 12px; border-radius: 3px; flex: none; }
        .list .grow { flex: 1; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
        .list .delete { border: none; background: none; color: #a33; padding: 0 4px; }
        dl { display: grid; grid-template-columns: 7.5em 1fr; gap: 2px 8px; margin: 0; font-size: 13px; }
        dt { font-weight: 600; }
        dd { margin: 0; color: #4a5261; }
        main { flex: 1; display: flex; flex-direction: column; min-width: 0; padding: 12px; }
        #stage { position: relative; flex: 1; min-height: 0; }
        #stage canvas { position: absolute; left: 0; top: 0; image-rendering: pixelated; }
        #prompt-canvas { cursor: crosshair; }
        #status { margin: 8px 0 0; min-height: 1.4em; color: #3a4252; }
        #status.error { color: #b00020; }
        body:not([data-mode="video"]) .video-only, body[data-mode="video"] .image-only { display: none !important; }
        #timeline { display: flex; align-items: center; gap: 8px; margin-top: 8px; }
        #frame-slider { flex: 1; }
        #frame-label { min-width: 8em; font-variant-numeric: tabular-nums; }
        #track-progress { width: 100%; margin-top: 6px; }
        .list li.selected { outline: 2px solid #1e90ff; }
        .list li.hidden-object .grow { opacity: .45; text-decoration: line-through; }
        .list .toggle { border: none; background: none; padding: 0 4px; color: #4a5261; }
        """#
}
