"""`check --decode-all`: every sweep and image of the checked frames decoded, so that a file cut
short or corrupt behind a whole header is found wherever it is, not only when something reads it.

Sweeps are read as every command reads them; images are decoded in full (JPEG at 1/8 scale, which
still reads the whole compressed stream: :func:`~fusionlabel.io.images.checked_image_size`) and
compared with their rig camera's size. The files are decoded in ``workers`` processes when there are
enough of them to be worth starting those (each process only needs the paths).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

from ..errors import FusionLabelError
from ..model.drive import Drive
from ..wording import counted
from .file_problems import FileProblems

# Files per process at least: fewer are decoded in the command's own process, since starting one
# costs ~0.3-0.5 s, the time of ~150 files (a sweep takes 4-5 ms, a JPEG at 1/8 scale 1-3 ms).
MIN_FILES_PER_WORKER = 200


@dataclass(frozen=True)
class FileJob:
    """One file to decode: drive index ``index`` of frame ``frame_id``, ``kind`` ``sweep`` or
    ``image``, the finding's ``subject`` (``frame F`` or the camera), and for an image the rig
    camera's ``size`` (width, height; None when the frame's rig cannot be read)."""

    index: int
    frame_id: str
    kind: str
    subject: str
    path: str
    size: tuple[int, int] | None = None


@dataclass
class DecodeReport:
    """What :func:`decode_files` decoded: ``sweeps`` and ``images`` read whole, out of ``frames``
    frames; ``unreadable``: (job, what is wrong) for each file that is not, in drive order."""

    frames: int = 0
    sweeps: int = 0
    images: int = 0
    unreadable: list[tuple[FileJob, str]] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"frames": self.frames, "sweeps": self.sweeps, "images": self.images,
                "unreadable": [{"frame": job.frame_id, "kind": job.kind, "subject": job.subject,
                                "path": job.path, "error": error} for job, error in self.unreadable]}


def file_jobs(drive: Drive, indices) -> list[FileJob]:
    """The sweep and images of ``drive``'s frames at ``indices``, in drive order."""
    jobs = []
    for i in sorted(set(indices)):
        frame = drive.frames[i]
        jobs.append(FileJob(i, frame.frame_id, "sweep", f"frame {frame.frame_id}", str(frame.lidar_path)))
        try:
            rig = drive.rig(i)
        except FusionLabelError:
            rig = None          # the drive check names the frame's rig; its images are still decoded
        for cam, path in frame.image_paths.items():
            try:
                size = None if rig is None else tuple(rig.camera(cam).camera.size)
            except KeyError:
                size = None
            jobs.append(FileJob(i, frame.frame_id, "image", cam, str(path), size))
    return jobs


def decode(job: FileJob) -> str | None:
    """What is wrong with ``job``'s file (the error, naming the file), or None when it decodes whole
    (an image: at its rig camera's size)."""
    from ..io.images import check_image_size, checked_image_size
    from ..io.pointcloud import collected_notes, read_points

    try:
        if job.kind == "sweep":
            with collected_notes():     # repairs the reader makes are no problem of the file's
                read_points(job.path)
        else:
            size = checked_image_size(job.path)
            if job.size is not None:
                check_image_size(job.path, size, job.size[0], job.size[1], job.subject)
    except FusionLabelError as e:
        return str(e)
    return None


def decode_files(drive: Drive, indices, problems: FileProblems, workers: int = 1,
                 show_progress: bool = True) -> DecodeReport:
    """Decode every sweep and image of ``drive``'s frames at ``indices`` in up to ``workers``
    processes, with a progress bar on stderr when ``show_progress``; each unreadable file is added to
    ``problems`` unless it already names that file kind of that subject in that frame (the drive
    check's own reading found it)."""
    from ..progress import progress

    jobs = file_jobs(drive, indices)
    plain = drive.reads_sweeps_plainly()
    report = DecodeReport(frames=len({job.index for job in jobs}))
    with progress(total=len(jobs), desc="decode", unit="file", enabled=show_progress) as bar:
        for job, error in zip(jobs, _decoded(drive, jobs, workers if plain else 1, bar)):
            if error is None:
                report.sweeps += job.kind == "sweep"
                report.images += job.kind == "image"
                continue
            report.unreadable.append((job, error))
            if not problems.has(job.subject, job.kind, job.index):
                problems.add(job.subject, job.kind, job.index, job.frame_id, error, job.path)
    return report


def _decoded(drive: Drive, jobs: list[FileJob], workers: int, bar, work=decode):
    """Each job's :func:`decode` answer, in order, ``bar`` updated as they come (``work``: what
    the processes run on each job, a module-level function)."""
    workers = max(1, min(int(workers), len(jobs) // MIN_FILES_PER_WORKER))
    if workers == 1 or getattr(sys, "frozen", False):     # a frozen executable cannot start Python processes
        for job in jobs:
            answer = _decode_here(drive, job)
            bar.update()
            yield answer
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    ctx = multiprocessing.get_context("spawn")   # no fork after Open3D or OpenCV started their threads
    done = 0
    try:
        with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
            for answer in pool.map(work, jobs, chunksize=8):
                bar.update()
                done += 1
                yield answer
    except BrokenProcessPool:
        raise FusionLabelError(f"a process decoding the drive's files ended unexpectedly, at {jobs[done].path} or "
                               f"one of the next {8 * workers} files; --workers 1 decodes them in this process "
                               "and stops at the file") from None


def _decode_here(drive: Drive, job: FileJob) -> str | None:
    """:func:`decode` in this process; a sweep through the drive's own reader when it has one."""
    if job.kind == "sweep" and not drive.reads_sweeps_plainly():
        try:
            drive.points(job.index)
        except FusionLabelError as e:
            return str(e)
        return None
    return decode(job)


def summary_line(report: DecodeReport | None, looked_up: int, checked: int, frames_given: bool) -> str:
    """The report's ``files:`` line: what ``--decode-all`` decoded, or without it how many frames'
    files were only looked up (``looked_up``; ``checked`` frames had their sweeps read)."""
    if report is not None:
        total = report.sweeps + report.images + len(report.unreadable)
        return (f"files: {counted(total, 'file')} of {counted(report.frames, 'frame')} decoded: "
                f"{counted(report.sweeps, 'sweep')} and {counted(report.images, 'image')} whole, "
                f"{len(report.unreadable)} unreadable" + (":" if report.unreadable else ""))
    line = f"files: sweeps of {counted(checked, 'frame')} read, their images' headers only"
    if looked_up:
        whose = "frame's" if looked_up == 1 else "frames'"
        line += f"; {looked_up} other {whose} files looked up (missing or empty), not decoded"
    elif frames_given:
        line += "; the frames --frames leaves out not looked at"
    return line + "; --decode-all decodes every sweep and image"
