#!/usr/bin/env python3
"""End-to-end test of the annotation page in a real browser.

Starts the built `sam2 serve` on a temporary project folder holding a fixture image and a fixture
video (a folder of JPEG frames), drives Debian's chromium (headless, through chromedriver and
selenium) to open the image, click an object, check that a mask is drawn on the canvas, refine and
undo, accept the mask with a label, export COCO JSON and mask PNGs, drag a box, segment everything
and upload an image; then compares the exported mask, decoded from its RLE, with `sam2 segment` on
the same click: they must be equal pixel for pixel.

On the video: click an object on frame 0, box a second one, track, move to a later frame and compare
the drawn masks pixel for pixel with `sam2 track`'s for the same prompts; correct an object on that
frame, track again from frame 0, export DAVIS PNGs and compare them byte for byte with `sam2 track`'s
on the server's kept prompts; then track both ways, export the overlay video and COCO, upload a video.

usage: test_page.py --binary .build/debug/sam2 [--screenshot docs/serve.png] [--video-screenshot docs/serve-video.png]
"""
import argparse
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "Tests", "SAM2Tests", "Fixtures", "model")
CHECKPOINT = os.path.join(FIXTURES, "small_2.1.pt")
CONFIG = os.path.join(FIXTURES, "small_2.1.json")
IMAGE = "square.png"
TARGET = (150, 170)   # the pixel clicked
VIDEO_FRAMES = os.path.join(ROOT, "Tests", "SAM2Tests", "Fixtures", "video", "frames")
VIDEO = "frames"
LATER = 6             # the frame compared after tracking, and corrected


def coco_rle_decode(counts_text, height, width):
    """pycocotools' compressed counts → a row-major list of 0/1."""
    counts, p = [], 0
    while p < len(counts_text):
        x, k, more = 0, 0, True
        while more:
            c = ord(counts_text[p]) - 48
            x |= (c & 0x1F) << (5 * k)
            more = bool(c & 0x20)
            p += 1
            k += 1
            if not more and (c & 0x10):
                x |= -1 << (5 * k)
        if len(counts) > 2:
            x += counts[-2]
        counts.append(x)
    mask = [0] * (height * width)
    index = 0
    for i, run in enumerate(counts):
        if i % 2 == 1:
            for j in range(index, index + run):
                mask[(j % height) * width + j // height] = 1
        index += run
    return mask


def read_npy_float32(path):
    """A little-endian float32 .npy file → (shape, values)."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:6] == b"\x93NUMPY", path
    header_length = struct.unpack("<H", data[8:10])[0]
    header = data[10:10 + header_length].decode("latin1")
    assert "'<f4'" in header and "'fortran_order': False" in header, header
    shape = tuple(int(v) for v in header.split("'shape': (")[1].split(")")[0].split(",") if v.strip())
    count = 1
    for s in shape:
        count *= s
    values = struct.unpack("<%df" % count, data[10 + header_length:10 + header_length + 4 * count])
    return shape, values


def start_server(binary, project):
    process = subprocess.Popen([binary, "serve", "--checkpoint", CHECKPOINT, "--config", CONFIG, "--port", "0",
                                "--project", project, "--quiet"], stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    url = next((w for w in line.split() if w.startswith("http://")), None)
    if url is None:
        process.kill()
        sys.exit("sam2 serve did not print its address: %r" % line)
    return process, url


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1100,760",
                     "--force-device-scale-factor=1"):
        options.add_argument(argument)
    service = Service(shutil.which("chromedriver") or "/usr/bin/chromedriver")
    return webdriver.Chrome(service=service, options=options)


def painted_pixels(driver):
    """Pixels of the mask canvas with some opacity, and the first painted colour."""
    return driver.execute_script("""
        const c = document.getElementById('mask-canvas');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0, first = null;
        for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0) { n++; if (!first) first = [d[i], d[i + 1], d[i + 2]]; }
        return [n, first];""")


def click_pixel(driver, x, y, shift=False):
    canvas = driver.find_element(By.ID, "prompt-canvas")
    rect = driver.execute_script("const r = arguments[0].getBoundingClientRect(); return [r.width, r.height];", canvas)
    size = driver.execute_script("return [view().width, view().height];")
    dx = (x + 0.5) / size[0] * rect[0] - rect[0] / 2
    dy = (y + 0.5) / size[1] * rect[1] - rect[1] / 2
    actions = ActionChains(driver)
    if shift:
        actions.key_down(Keys.SHIFT)
    actions.move_to_element_with_offset(canvas, int(round(dx)), int(round(dy))).click()
    if shift:
        actions.key_up(Keys.SHIFT)
    actions.perform()


def body(driver, name):
    return driver.find_element(By.TAG_NAME, "body").get_attribute("data-" + name)


def press(driver, key):
    driver.find_element(By.TAG_NAME, "body").send_keys(key)


def drag_pixels(driver, x0, y0, x1, y1):
    canvas = driver.find_element(By.ID, "prompt-canvas")
    rect = driver.execute_script("const r = arguments[0].getBoundingClientRect(); return [r.width, r.height];", canvas)
    size = driver.execute_script("return [view().width, view().height];")
    def offset(x, y):
        return (int(round((x + 0.5) / size[0] * rect[0] - rect[0] / 2)), int(round((y + 0.5) / size[1] * rect[1] - rect[1] / 2)))
    (ax, ay), (bx, by) = offset(x0, y0), offset(x1, y1)
    ActionChains(driver).move_to_element_with_offset(canvas, ax, ay).click_and_hold() \
        .move_by_offset((bx - ax) // 2, (by - ay) // 2).move_by_offset(bx - ax - (bx - ax) // 2, by - ay - (by - ay) // 2) \
        .release().perform()


def drawn_ids(driver):
    """The mask canvas as object ids: each pixel's colour is its object's (0 where nothing is drawn, -1 for a
    colour of no object)."""
    return driver.execute_script("""
        const c = document.getElementById('mask-canvas');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        const ids = [];
        for (let i = 0; i < d.length; i += 4) {
          let id = d[i + 3] > 0 ? -1 : 0;
          if (d[i + 3] > 0) for (const o of video.objects) {
            const [r, g, b] = objectColour(o);
            // (the canvas keeps colours premultiplied by alpha: they come back within a few levels)
            if (Math.abs(d[i] - r) <= 3 && Math.abs(d[i + 1] - g) <= 3 && Math.abs(d[i + 2] - b) <= 3) { id = o; break; }
          }
          ids.push(id);
        }
        return ids;""")


def track_prompts(project, path):
    """The server's kept prompts of the video as a `sam2 track` prompts file."""
    with open(os.path.join(project, ".sam2", "videos", VIDEO, "state.json")) as f:
        prompts = json.load(f)["prompts"]
    entries = [{k: v for k, v in p.items() if k != "clear_old_points"} for p in prompts]
    with open(path, "w") as f:
        json.dump(entries, f)
    return entries


def sam2_track(binary, project, prompts, out, extra=()):
    subprocess.run([binary, "track", os.path.join(project, VIDEO), "--checkpoint", CHECKPOINT, "--config", CONFIG,
                    "--prompts", prompts, "--output", out, "--quiet"] + list(extra), check=True, capture_output=True)


def video_session(driver, wait, project, work, binary, screenshot):
    driver.find_element(By.CSS_SELECTOR, "#videos li[data-name='%s']" % VIDEO).click()
    wait.until(lambda d: body(d, "video") and body(d, "frame") == "0")
    assert painted_pixels(driver)[0] == 0, "masks drawn before any click"

    # A click on frame 0 prompts a new object 1; N and a drag box a second object.
    click_pixel(driver, 14, 17)
    wait.until(lambda d: body(d, "video-masks") == "1")
    area = driver.execute_script("return video.masks.get(0).objects[0].area;")
    assert painted_pixels(driver)[0] == area > 0, (painted_pixels(driver), area)
    press(driver, "n")
    drag_pixels(driver, 38, 23, 59, 44)
    wait.until(lambda d: body(d, "video-masks") == "2")
    assert driver.execute_script("return video.objects;") == [1, 2]
    assert driver.execute_script("return video.clicks.get('0:2').box;") is not None

    # T tracks forward; a later frame shows the masks sam2 track computes for the same prompts.
    press(driver, "t")
    wait.until(lambda d: body(d, "tracked") == "1")
    assert body(driver, "track") == "done", body(driver, "track")
    assert body(driver, "frame") == "9", body(driver, "frame")   # the view follows the tracking
    press(driver, Keys.HOME)
    wait.until(lambda d: body(d, "frame") == "0")
    if screenshot:   # both objects tracked, seen on their prompted frame
        driver.save_screenshot(screenshot)
    for frame in range(1, LATER + 1):
        press(driver, Keys.ARROW_RIGHT)
        wait.until(lambda d: body(d, "frame") == str(frame))
    first = os.path.join(work, "track-first")
    track_prompts(project, os.path.join(work, "prompts-first.json"))
    sam2_track(binary, project, os.path.join(work, "prompts-first.json"), first, ["--per-object", "--save-logits"])
    masks = {}
    for object_id in (1, 2):
        _, values = read_npy_float32(os.path.join(first, str(object_id), "%05d.npy" % LATER))
        masks[object_id] = [v > 0 for v in values]

    def compare(shown):
        drawn = drawn_ids(driver)
        expected = [next((k for k in sorted(shown) if masks[k][i]), 0) for i in range(len(drawn))]   # smaller id on top
        different = sum(a != b for a, b in zip(drawn, expected))
        assert different == 0, "%d pixels of frame %d differ from sam2 track (objects %s)" % (different, LATER, shown)
        assert all(expected.count(k) > 0 for k in [0] + [min(shown)]), [expected.count(k) for k in (0, 1, 2)]
        return drawn
    drawn = compare({1, 2})
    # H hides the selected object (1, chosen in the list): object 2 is drawn alone; H shows it again.
    driver.find_element(By.CSS_SELECTOR, "#video-objects li[data-object='1']").click()
    press(driver, "h")
    compare({2})
    press(driver, "h")
    compare({1, 2})

    # A correction on that frame (a background click inside object 1), then tracking again from frame 0.
    inside = drawn.index(1)
    width = driver.execute_script("return video.info.width;")
    click_pixel(driver, inside % width, inside // width, shift=True)
    wait.until(lambda d: body(d, "video-masks") == "3")
    press(driver, Keys.HOME)
    wait.until(lambda d: body(d, "frame") == "0")
    press(driver, "t")
    wait.until(lambda d: body(d, "tracked") == "2")
    assert body(driver, "track") == "done"
    driver.find_element(By.ID, "export-davis").click()
    wait.until(lambda d: "export/%s/davis/00009.png" % VIDEO in (body(d, "exported") or ""))

    second = os.path.join(work, "track-second")
    prompts = track_prompts(project, os.path.join(work, "prompts-second.json"))
    assert [(p["frame"], p["object"]) for p in prompts] == [(0, 1), (0, 2), (LATER, 1)], prompts
    assert prompts[2]["labels"] == [0], prompts
    sam2_track(binary, project, os.path.join(work, "prompts-second.json"), second)
    for frame in range(10):
        name = "%05d.png" % frame
        with open(os.path.join(project, "export", VIDEO, "davis", name), "rb") as a, open(os.path.join(second, name), "rb") as b:
            assert a.read() == b.read(), "exported %s differs from sam2 track's" % name

    # Both ways from the frame shown; the overlay video and COCO exports; a video uploaded from the computer.
    press(driver, Keys.END)
    wait.until(lambda d: body(d, "frame") == "9")
    press(driver, "b")
    wait.until(lambda d: body(d, "tracked") == "4")   # a forward pass, then a backward one
    assert body(driver, "track") == "done"
    driver.find_element(By.ID, "export-mp4").click()
    wait.until(lambda d: "export/%s/overlay.mp4" % VIDEO in (body(d, "exported") or ""))
    driver.find_element(By.ID, "export-video-coco").click()
    wait.until(lambda d: "export/%s/instances.json" % VIDEO in (body(d, "exported") or ""))
    with open(os.path.join(project, "export", VIDEO, "instances.json")) as f:
        assert len(json.load(f)["images"]) == 10
    upload = driver.find_element(By.ID, "upload-video")
    driver.execute_script("arguments[0].hidden = false;", upload)
    upload.send_keys(os.path.join(os.path.dirname(VIDEO_FRAMES), "clip.mp4"))
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#videos li[data-name='clip.mp4']"))
    wait.until(lambda d: driver.execute_script("return video.info.name;") == "clip.mp4" and body(d, "frame") == "0")
    driver.execute_script("arguments[0].hidden = true;", upload)
    assert os.path.exists(os.path.join(project, "clip.mp4"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build", "debug", "sam2"))
    parser.add_argument("--screenshot", help="save a screenshot of the page with a mask here (PNG)")
    parser.add_argument("--video-screenshot", help="save a screenshot of the video view with two tracked objects here")
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="sam2-browser-")
    project = os.path.join(work, "project")
    os.makedirs(project)
    shutil.copy(os.path.join(FIXTURES, "images", IMAGE), project)
    shutil.copytree(VIDEO_FRAMES, os.path.join(project, VIDEO))
    server, url = start_server(os.path.abspath(args.binary), project)
    driver = None
    try:
        driver = browser()
        wait = WebDriverWait(driver, 30)
        driver.get(url)
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#images li[data-name='%s']" % IMAGE))
        driver.find_element(By.CSS_SELECTOR, "#images li[data-name='%s']" % IMAGE).click()
        wait.until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-image"))
        assert painted_pixels(driver)[0] == 0, "masks drawn before any click"

        # A click draws a mask: the best of three, as many pixels as the server says.
        click_pixel(driver, *TARGET)
        wait.until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-masks") == "1")
        first_area = driver.execute_script("return state.result.masks[state.result.best].area;")
        painted, colour = painted_pixels(driver)
        assert painted > 0 and painted == first_area, (painted, first_area)
        clicked = driver.execute_script("return state.points[0];")
        assert abs(clicked[0] - TARGET[0]) <= 1 and abs(clicked[1] - TARGET[1]) <= 1, clicked
        if args.screenshot:
            driver.save_screenshot(args.screenshot)

        # A background click refines with the previous mask as mask input; Z undoes it.
        click_pixel(driver, 60, 60, shift=True)
        wait.until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-masks") == "2")
        assert driver.execute_script("return state.labels;") == [1, 0]
        assert len(driver.execute_script("return state.result.masks;")) == 1
        driver.find_element(By.TAG_NAME, "body").send_keys("z")
        wait.until(lambda d: d.execute_script("return state.points.length;") == 1)
        assert painted_pixels(driver)[0] == first_area

        # Enter accepts the mask with the label; it stays drawn in the first object colour.
        label = driver.find_element(By.ID, "label")
        label.clear()
        label.send_keys("thing")
        driver.find_element(By.TAG_NAME, "body").send_keys(Keys.ENTER)
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#objects li")) == 1)
        painted, colour = painted_pixels(driver)
        assert painted == first_area and all(abs(a - b) <= 3 for a, b in zip(colour, [230, 25, 75])), (painted, colour)

        driver.find_element(By.ID, "export-coco").click()
        wait.until(lambda d: "export/instances.json" in (d.find_element(By.TAG_NAME, "body").get_attribute("data-exported") or ""))
        driver.find_element(By.ID, "export-png").click()
        wait.until(lambda d: "export/masks/%s/1.png" % IMAGE in (d.find_element(By.TAG_NAME, "body").get_attribute("data-exported") or ""))

        # A drag is a box prompt; Esc clears it; "segment everything" answers.
        canvas = driver.find_element(By.ID, "prompt-canvas")
        ActionChains(driver).move_to_element_with_offset(canvas, -60, -60).click_and_hold().move_by_offset(40, 30) \
            .move_by_offset(40, 30).release().perform()
        wait.until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-masks") == "3")
        box = driver.execute_script("return state.box;")
        assert box and box[2] > box[0] and box[3] > box[1] and driver.execute_script("return state.points.length;") == 0, box
        driver.find_element(By.TAG_NAME, "body").send_keys(Keys.ESCAPE)
        assert driver.execute_script("return state.box;") is None
        driver.find_element(By.ID, "everything").click()
        wait.until(lambda d: " masks in " in d.find_element(By.ID, "status").text)

        # Uploading a local image saves it into the project folder and opens it.
        first_image = driver.find_element(By.TAG_NAME, "body").get_attribute("data-image")
        upload = driver.find_element(By.ID, "upload")
        driver.execute_script("arguments[0].hidden = false;", upload)
        upload.send_keys(os.path.join(FIXTURES, "images", "odd.png"))
        wait.until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-image") not in (None, first_image))
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#images li[data-name='odd.png']"))
        assert driver.execute_script("return [state.image.width, state.image.height];") == [97, 131]
        driver.execute_script("arguments[0].hidden = true;", upload)

        video_session(driver, wait, project, work, os.path.abspath(args.binary), args.video_screenshot)
    finally:
        if driver is not None:
            driver.quit()
        server.terminate()
        server.wait(timeout=30)

    with open(os.path.join(project, "export", "instances.json")) as f:
        coco = json.load(f)
    assert len(coco["annotations"]) == 1 and coco["categories"][0]["name"] == "thing", coco["categories"]
    assert os.path.exists(os.path.join(project, "export", "masks", IMAGE, "1.png"))
    assert os.path.exists(os.path.join(project, "odd.png"))
    annotation = coco["annotations"][0]
    height, width = annotation["segmentation"]["size"]
    exported = coco_rle_decode(annotation["segmentation"]["counts"], height, width)
    with open(os.path.join(project, ".sam2", "annotations.json")) as f:
        prompt = json.load(f)[0]["prompt"]
    assert prompt["labels"] == [1], prompt
    x, y = prompt["points"][0]

    out = os.path.join(work, "segment")
    logits = os.path.join(work, "logits.npy")
    result = subprocess.run([os.path.abspath(args.binary), "segment", os.path.join(project, IMAGE), "--checkpoint", CHECKPOINT,
                             "--config", CONFIG, "--point", "%s,%s" % (x, y), "--output", out, "--save-logits", logits,
                             "--json", "--quiet"], capture_output=True, text=True, check=True)
    masks = json.loads(result.stdout)["masks"]
    best = max(range(len(masks)), key=lambda k: masks[k]["score"])
    shape, values = read_npy_float32(logits)
    plane = shape[1] * shape[2]
    expected = [1 if v > 0 else 0 for v in values[best * plane:(best + 1) * plane]]
    assert (shape[1], shape[2]) == (height, width), (shape, height, width)
    different = sum(a != b for a, b in zip(exported, expected))
    assert different == 0, "%d pixels differ between the exported mask and sam2 segment" % different
    assert abs(annotation["score"] - masks[best]["score"]) < 1e-6
    shutil.rmtree(work)
    print("browser test passed: clicked (%s, %s), mask of %d pixels drawn, accepted, exported, equal to sam2 segment; "
          "video: two objects tracked, frame %d drawn as sam2 track's, corrected, tracked again, DAVIS export equal to "
          "sam2 track's; tracked both ways, exported MP4 and COCO, uploaded a video" % (x, y, sum(exported), LATER))


if __name__ == "__main__":
    main()
