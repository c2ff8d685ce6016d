// WebPageHTML: the annotation page's markup — image and video lists and uploads; for an image, the
// label picker, tools, accepted objects, export buttons and shortcuts; for a video, its objects,
// tracking with progress, export buttons, shortcuts and a frame slider — beside canvases holding the
// image (or frame) and its masks.

enum WebPageHTML {
    static let text = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>sam2 — annotate</title>
        <link rel="stylesheet" href="/app.css">
        </head>
        <body>
        <aside id="sidebar">
          <h1>sam2 annotate</h1>
          <section>
            <h2>Images</h2>
            <ul id="images" class="list"></ul>
            <label class="button" for="upload">Upload an image…</label>
            <input id="upload" type="file" accept=".jpg,.jpeg,.png,image/jpeg,image/png" hidden>
          </section>
          <section>
            <h2>Videos</h2>
            <ul id="videos" class="list"></ul>
            <label class="button" for="upload-video">Upload a video…</label>
            <input id="upload-video" type="file" accept="video/*,.mp4,.m4v,.mov,.mkv,.webm,.avi" hidden>
          </section>
          <section class="image-only">
            <h2>Label</h2>
            <input id="label" list="labels" value="object" autocomplete="off" spellcheck="false">
            <datalist id="labels"></datalist>
          </section>
          <section class="image-only">
            <h2>Tools</h2>
            <button id="accept" type="button">Accept (Enter)</button>
            <button id="undo" type="button">Undo (Z)</button>
            <button id="clear" type="button">Clear (Esc)</button>
            <button id="everything" type="button">Segment everything</button>
          </section>
          <section class="image-only">
            <h2>Objects</h2>
            <ul id="objects" class="list"></ul>
          </section>
          <section class="image-only">
            <h2>Export</h2>
            <button id="export-coco" type="button">COCO JSON</button>
            <button id="export-png" type="button">Mask PNGs</button>
          </section>
          <section class="image-only">
            <h2>Shortcuts</h2>
            <dl id="shortcuts">
              <dt>click</dt><dd>foreground point</dd>
              <dt>shift-click, right-click</dt><dd>background point</dd>
              <dt>drag</dt><dd>box</dd>
              <dt>Z</dt><dd>undo the last prompt</dd>
              <dt>Enter</dt><dd>accept the mask as an object</dd>
              <dt>Esc</dt><dd>clear the prompts</dd>
              <dt>A</dt><dd>segment everything</dd>
              <dt>L</dt><dd>edit the label</dd>
              <dt>Tab</dt><dd>next of the three candidate masks</dd>
            </dl>
          </section>
          <section class="video-only">
            <h2>Objects</h2>
            <ul id="video-objects" class="list"></ul>
            <button id="new-object" type="button">New object (N)</button>
          </section>
          <section class="video-only">
            <h2>Track</h2>
            <button id="track-forward" type="button">Forward (T)</button>
            <button id="track-backward" type="button">Backward</button>
            <button id="track-both" type="button">Both (B)</button>
            <button id="track-cancel" type="button">Cancel</button>
            <progress id="track-progress" value="0" max="1"></progress>
          </section>
          <section class="video-only">
            <h2>Export</h2>
            <button id="export-davis" type="button">DAVIS PNGs</button>
            <button id="export-video-coco" type="button">COCO JSON</button>
            <button id="export-mp4" type="button">Overlay MP4</button>
          </section>
          <section class="video-only">
            <h2>Shortcuts</h2>
            <dl id="video-shortcuts">
              <dt>click</dt><dd>foreground point for the selected object</dd>
              <dt>shift-click, right-click</dt><dd>background point</dd>
              <dt>drag</dt><dd>box</dd>
              <dt>N</dt><dd>new object</dd>
              <dt>← →</dt><dd>previous / next frame</dd>
              <dt>Home, End</dt><dd>first / last frame</dd>
              <dt>Space</dt><dd>play / pause</dd>
              <dt>T, shift-T</dt><dd>track forward / backward from this frame</dd>
              <dt>B</dt><dd>track both ways</dd>
              <dt>H</dt><dd>hide / show the selected object</dd>
              <dt>Esc</dt><dd>cancel tracking</dd>
            </dl>
          </section>
        </aside>
        <main>
          <div id="stage">
            <canvas id="image-canvas" width="1" height="1"></canvas>
            <canvas id="mask-canvas" width="1" height="1"></canvas>
            <canvas id="prompt-canvas" width="1" height="1"></canvas>
          </div>
          <div id="timeline" class="video-only">
            <button id="play" type="button" title="Play / pause (Space)">▶</button>
            <input id="frame-slider" type="range" min="0" max="0" value="0">
            <span id="frame-label">frame 0</span>
          </div>
          <p id="status" role="status">Open an image or a video from the lists, or upload one.</p>
        </main>
        <script src="/app.js"></script>
        <script src="/video.js"></script>
        </body>
        </html>
        """#
}
