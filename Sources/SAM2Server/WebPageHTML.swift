// WebPageHTML: the annotation page's markup — image list and upload, label picker, tools, accepted
// objects, export buttons and the shortcut list beside a canvas holding the image and its masks.

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
            <h2>Label</h2>
            <input id="label" list="labels" value="object" autocomplete="off" spellcheck="false">
            <datalist id="labels"></datalist>
          </section>
          <section>
            <h2>Tools</h2>
            <button id="accept" type="button">Accept (Enter)</button>
            <button id="undo" type="button">Undo (Z)</button>
            <button id="clear" type="button">Clear (Esc)</button>
            <button id="everything" type="button">Segment everything</button>
          </section>
          <section>
            <h2>Objects</h2>
            <ul id="objects" class="list"></ul>
          </section>
          <section>
            <h2>Export</h2>
            <button id="export-coco" type="button">COCO JSON</button>
            <button id="export-png" type="button">Mask PNGs</button>
          </section>
          <section>
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
        </aside>
        <main>
          <div id="stage">
            <canvas id="image-canvas" width="1" height="1"></canvas>
            <canvas id="mask-canvas" width="1" height="1"></canvas>
            <canvas id="prompt-canvas" width="1" height="1"></canvas>
          </div>
          <p id="status" role="status">Open an image from the list or upload one.</p>
        </main>
        <script src="/app.js"></script>
        </body>
        </html>
        """#
}
