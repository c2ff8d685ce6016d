// WebPageScript: the annotation page's behaviour — opening and uploading images, turning clicks and
// drags into prompts, drawing masks (COCO RLE decoded here), refinement with the previous mask's
// logits, undo, accepting labelled objects, "segment everything" and export, over the JSON API. The
// video view (WebPageVideoScript) shares the canvases, the mouse handling and the mask painting.

enum WebPageScript {
    static let text = #"""
        "use strict";
        const $ = (id) => document.getElementById(id);
        const imageCanvas = $("image-canvas"), maskCanvas = $("mask-canvas"), promptCanvas = $("prompt-canvas");
        const palette = [[230, 25, 75], [60, 180, 75], [255, 225, 25], [0, 130, 200], [245, 130, 48], [145, 30, 180],
          [70, 240, 240], [240, 50, 230], [210, 245, 60], [250, 190, 212], [0, 128, 128], [220, 190, 255], [170, 110,
            40],
          [128, 0, 0], [170, 255, 195], [128, 128, 0], [0, 0, 128]];
        const currentColour = [255, 170, 0];

        // What the page shows: the image, the prompts, the current masks, the accepted objects.
        const state = {
          image: null,          // {id, name, width, height}
          points: [], labels: [], box: null,
          result: null,         // last prediction: {masks, best}
          shown: 0,             // index of the mask shown among result.masks
          history: [],          // earlier {points, labels, box, result, shown} for undo
          candidates: [],       // masks from "segment everything"
          objects: [],          // accepted annotations of this image
          drag: null,           // {x0, y0, x1, y1, button, shift} while the mouse is down
          busy: false,
          video: null,          // {width, height} while a video is shown (WebPageVideoScript)
        };

        // What the canvases show: the open image or the open video's frame size.
        function view() { return state.image || state.video; }

        function status(text, isError) {
          $("status").textContent = text;
          $("status").className = isError ? "error" : "";
        }

        async function api(method, path, body, raw) {
          const options = { method, headers: {} };
          if (raw !== undefined) { options.body = raw; options.headers["Content-Type"] = "application/octet-stream"; }
          else if (body !== undefined) { options.body = JSON.stringify(body);
            options.headers["Content-Type"] = "application/json"; }
          const response = await fetch(path, options);
          const data = await response.json().catch(() => ({ error: "HTTP " + response.status }));
          if (!response.ok) throw new Error(data.error || ("HTTP " + response.status));
          return data;
        }

        // COCO RLE (pycocotools' compressed counts) → runs, column-major, starting with a run of zeros.
        function decodeCounts(s) {
          const counts = [];
          let p = 0;
          while (p < s.length) {
            let x = 0, k = 0, more = true;
            while (more) {
              const c = s.charCodeAt(p) - 48;
              x |= (c & 0x1f) << (5 * k);
              more = (c & 0x20) !== 0;
              p++; k++;
              if (!more && (c & 0x10)) x |= -1 << (5 * k);
            }
            if (counts.length > 2) x += counts[counts.length - 2];
            counts.push(x);
          }
          return counts;
        }

        // Paints a mask (COCO RLE) into RGBA pixels with a colour and an opacity.
        function paint(pixels, rle, colour, alpha) {
          const [h, w] = rle.size;
          const counts = decodeCounts(rle.counts);
          let index = 0;
          for (let k = 0; k < counts.length; k++) {
            if (k % 2 === 1) {
              for (let i = index; i < index + counts[k]; i++) {
                const o = ((i % h) * w + Math.floor(i / h)) * 4;
                pixels[o] = colour[0]; pixels[o + 1] = colour[1]; pixels[o + 2] = colour[2]; pixels[o + 3] = alpha;
              }
            }
            index += counts[k];
          }
        }

        function colourOf(i) { return palette[i % palette.length]; }

        function drawMasks() {
          const ctx = maskCanvas.getContext("2d");
          if (!state.image) return;
          const { width, height } = state.image;
          const data = ctx.createImageData(width, height);
          state.objects.forEach((o, i) => paint(data.data, o.segmentation, colourOf(i), 120));
          state.candidates.forEach((m, i) => paint(data.data, m.rle, colourOf(state.objects.length + i), 140));
          if (state.result) paint(data.data, state.result.masks[state.shown].rle, currentColour, 150);
          ctx.putImageData(data, 0, 0);
        }

        function drawPrompts() {
          const ctx = promptCanvas.getContext("2d");
          ctx.setTransform(1, 0, 0, 1, 0, 0);
          ctx.clearRect(0, 0, promptCanvas.width, promptCanvas.height);
          if (!view()) return;
          const s = promptCanvas.width / view().width;
          const box = state.drag && state.drag.moved ? [state.drag.x0, state.drag.y0, state.drag.x1, state.drag.y1] :
            state.box;
          if (box) {
            ctx.strokeStyle = "#1e90ff"; ctx.lineWidth = 2;
            ctx.strokeRect(Math.min(box[0], box[2]) * s, Math.min(box[1], box[3]) * s, Math.abs(box[2] - box[0]) * s,
              Math.abs(box[3] - box[1]) * s);
          }
          state.points.forEach(([x, y], i) => {
            ctx.beginPath();
            ctx.arc(x * s, y * s, 6, 0, 2 * Math.PI);
            ctx.fillStyle = state.labels[i] === 1 ? "#2ecc40" : "#ff4136";
            ctx.fill(); ctx.lineWidth = 2; ctx.strokeStyle = "#fff"; ctx.stroke();
          });
        }

        // Scales the canvases to fit the stage, keeping the image's aspect ratio.
        function layout() {
          const v = view();
          if (!v) return;
          const stage = $("stage");
          const scale = Math.min(stage.clientWidth / v.width, stage.clientHeight / v.height);
          const w = Math.max(1, Math.floor(v.width * scale)), h = Math.max(1, Math.floor(v.height * scale));
          for (const c of [imageCanvas, maskCanvas, promptCanvas]) { c.style.width = w + "px"; c.style.height = h +
            "px"; }
          promptCanvas.width = w; promptCanvas.height = h;
          drawPrompts();
        }

        // The image pixel under a mouse event, rounded to whole pixels.
        function imagePoint(event) {
          const r = promptCanvas.getBoundingClientRect(), v = view();
          const x = (event.clientX - r.left) / r.width * v.width;
          const y = (event.clientY - r.top) / r.height * v.height;
          return [Math.min(v.width, Math.max(0, Math.round(x))), Math.min(v.height, Math.max(0, Math.round(y)))];
        }

        async function refreshImages() {
          const project = await api("GET", "/api/project");
          const list = $("images");
          list.replaceChildren(...project.images.map((entry) => {
            const li = document.createElement("li");
            li.dataset.name = entry.name;
            if (state.image && state.image.name === entry.name) li.className = "current";
            const name = document.createElement("span"); name.className = "grow"; name.textContent = entry.name;
            const count = document.createElement("span"); count.textContent = entry.annotations ?
              String(entry.annotations) : "";
            li.append(name, count);
            li.addEventListener("click", () => openImage(entry.name));
            return li;
          }));
          renderVideoList(project.videos);
        }

        async function show(info) {
          status("Computing the embedding of " + info.name + "…");
          const img = new Image();
          img.src = "/api/images/" + info.id + "/pixels";
          await img.decode();
          leaveVideo();
          Object.assign(state, { image: info, points: [], labels: [], box: null, result: null, history: [],
            candidates: [] });
          for (const c of [imageCanvas, maskCanvas]) { c.width = info.width; c.height = info.height; }
          imageCanvas.getContext("2d").drawImage(img, 0, 0);
          const saved = await api("GET", "/api/annotations?image=" + encodeURIComponent(info.name));
          state.objects = saved.annotations;
          layout(); drawMasks(); renderObjects(); await refreshImages();
          status(info.name + " (" + info.width + "×" + info.height + ")" + (info.embedding_ms ? ", embedding " +
            Math.round(info.embedding_ms) + " ms" : "") + ". Click the object.");
          document.body.dataset.image = info.id;
        }

        async function openImage(name) {
          try {
            status("Opening " + name + "…");
            await show(await api("POST", "/api/images/open", { name }));
          } catch (e) { status(e.message, true); }
        }

        async function upload(file) {
          try {
            status("Uploading " + file.name + "…");
            await show(await api("POST", "/api/images/upload?name=" + encodeURIComponent(file.name), undefined, file));
          } catch (e) { status(e.message, true); }
        }

        // Sends the prompts; after the first prediction the shown mask's logits refine the next one.
        async function predict() {
          if (!state.image) return;
          if (!state.points.length && !state.box) { state.result = null; drawMasks(); drawPrompts(); return; }
          const previous = state.history.length ? state.history[state.history.length - 1] : null;
          const body = { points: state.points, labels: state.labels };
          if (state.box) body.box = state.box;
          if (previous && previous.result) body.mask_input = previous.result.masks[previous.shown].id;
          body.multimask = state.points.length === 1 && !state.box && !body.mask_input;
          const started = performance.now();
          try {
            state.busy = true;
            const result = await api("POST", "/api/images/" + state.image.id + "/predict", body);
            state.result = result; state.shown = result.best; state.candidates = [];
            drawMasks(); drawPrompts();
            const m = result.masks[result.best];
            status("Mask: score " + m.score.toFixed(3) + ", area " + m.area + " px — server " +
              result.timing_ms.total.toFixed(1) +
              " ms, round trip " + (performance.now() - started).toFixed(1) + " ms. Enter accepts.");
            document.body.dataset.masks = String((Number(document.body.dataset.masks) || 0) + 1);
          } catch (e) { status(e.message, true); } finally { state.busy = false; }
        }

        function pushHistory() {
          state.history.push({ points: state.points.slice(), labels: state.labels.slice(), box: state.box,
            result: state.result, shown: state.shown });
        }

        function undo() {
          const previous = state.history.pop();
          if (!previous) return;
          Object.assign(state, previous);
          drawMasks(); drawPrompts();
          status(state.result ? "Undone." : "Undone: no prompt left.");
        }

        function clearPrompts() {
          Object.assign(state, { points: [], labels: [], box: null, result: null, history: [], candidates: [] });
          drawMasks(); drawPrompts();
        }

        async function accept() {
          if (!state.image) return;
          const label = $("label").value.trim() || "object";
          const masks = state.result ? [state.result.masks[state.shown]] : state.candidates.map((m) => m.rle ? m :
            null).filter(Boolean);
          if (!masks.length) { status("Nothing to accept: click an object first.", true); return; }
          try {
            for (const m of masks) {
              const prompt = state.result ? { points: state.points, labels: state.labels, box: state.box ||
                undefined } : undefined;
              const saved = await api("POST", "/api/annotations", { image: state.image.id, label, segmentation: m.rle,
                score: m.score, prompt });
              state.objects.push(saved);
            }
            rememberLabel(label);
            clearPrompts(); renderObjects(); await refreshImages();
            status("Accepted " + masks.length + " object" + (masks.length > 1 ? "s" : "") + " as \u201c" + label +
              "\u201d.");
          } catch (e) { status(e.message, true); }
        }

        function rememberLabel(label) {
          const list = $("labels");
          if (![...list.options].some((o) => o.value === label)) {
            const option = document.createElement("option"); option.value = label; list.append(option);
          }
        }

        function renderObjects() {
          $("objects").replaceChildren(...state.objects.map((o, i) => {
            const li = document.createElement("li");
            const swatch = document.createElement("span"); swatch.className = "swatch";
            swatch.style.background = "rgb(" + colourOf(i).join(",") + ")";
            const name = document.createElement("span"); name.className = "grow";
            name.textContent = o.label + (o.score != null ? " (" + Number(o.score).toFixed(2) + ")" : "");
            const del = document.createElement("button"); del.className = "delete"; del.textContent = "✕";
              del.title = "Delete";
            del.addEventListener("click", async () => {
              try {
                await api("DELETE", "/api/annotations/" + o.id);
                state.objects = state.objects.filter((x) => x.id !== o.id);
                renderObjects(); drawMasks(); await refreshImages();
              } catch (e) { status(e.message, true); }
            });
            li.append(swatch, name, del);
            return li;
          }));
          state.objects.forEach((o) => rememberLabel(o.label));
        }

        async function everything() {
          if (!state.image) return;
          status("Segmenting everything…");
          try {
            const result = await api("POST", "/api/images/" + state.image.id + "/auto", {});
            clearPrompts();
            state.candidates = result.masks;
            drawMasks();
            status(result.masks.length + " masks in " + (result.timing_ms.total / 1000).toFixed(1) +
              " s. Enter accepts them all, Esc discards them.");
          } catch (e) { status(e.message, true); }
        }

        async function exportAnnotations(coco, png) {
          try {
            const result = await api("POST", "/api/export", { coco, png });
            status("Exported " + result.files.length + " file" + (result.files.length === 1 ? "" : "s") + ": " +
              result.files.slice(0, 3).join(", ") + (result.files.length > 3 ? ", …" : ""));
            document.body.dataset.exported = result.files.join("\n");
          } catch (e) { status(e.message, true); }
        }

        promptCanvas.addEventListener("contextmenu", (e) => e.preventDefault());
        promptCanvas.addEventListener("mousedown", (e) => {
          if (!view()) return;
          const [x, y] = imagePoint(e);
          state.drag = { x0: x, y0: y, x1: x, y1: y, sx: e.clientX, sy: e.clientY, button: e.button, shift: e.shiftKey,
            moved: false };
        });
        window.addEventListener("mousemove", (e) => {
          if (!state.drag) return;
          [state.drag.x1, state.drag.y1] = imagePoint(e);
          if (Math.hypot(e.clientX - state.drag.sx, e.clientY - state.drag.sy) > 5 &&
            state.drag.button === 0) state.drag.moved = true;
          drawPrompts();
        });
        window.addEventListener("mouseup", (e) => {
          const drag = state.drag;
          state.drag = null;
          if (!drag || !view()) return;
          if (state.video) { videoPrompt(drag); return; }
          pushHistory();
          if (drag.moved) {
            state.box = [Math.min(drag.x0, drag.x1), Math.min(drag.y0, drag.y1), Math.max(drag.x0, drag.x1),
              Math.max(drag.y0, drag.y1)];
          } else {
            state.points.push([drag.x0, drag.y0]);
            state.labels.push(drag.button === 2 || drag.shift ? 0 : 1);
          }
          drawPrompts();
          predict();
        });
        window.addEventListener("keydown", (e) => {
          if (e.target === $("label")) { if (e.key === "Enter" || e.key === "Escape") $("label").blur(); return; }
          if (state.video) { videoKey(e); return; }
          if (e.key === "z" || e.key === "Z") { e.preventDefault(); undo(); }
          else if (e.key === "Enter") { e.preventDefault(); accept(); }
          else if (e.key === "Escape") { clearPrompts(); status("Cleared."); }
          else if (e.key === "a" || e.key === "A") everything();
          else if (e.key === "l" || e.key === "L") { e.preventDefault(); $("label").focus(); $("label").select(); }
          else if (e.key === "Tab" && state.result) {
            e.preventDefault();
            state.shown = (state.shown + 1) % state.result.masks.length;
            drawMasks();
            const m = state.result.masks[state.shown];
            status("Candidate " + (state.shown + 1) + " of " + state.result.masks.length + ": score " +
              m.score.toFixed(3) + ", area " + m.area + " px.");
          }
        });
        $("accept").addEventListener("click", accept);
        $("undo").addEventListener("click", undo);
        $("clear").addEventListener("click", clearPrompts);
        $("everything").addEventListener("click", everything);
        $("export-coco").addEventListener("click", () => exportAnnotations(true, false));
        $("export-png").addEventListener("click", () => exportAnnotations(false, true));
        $("upload").addEventListener("change", (e) => { if (e.target.files.length) upload(e.target.files[0]);
          e.target.value = ""; });
        window.addEventListener("resize", layout);
        refreshImages().catch((e) => status(e.message, true));
        """#
}
