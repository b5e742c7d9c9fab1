"""A project: a folder holding the annotation database, the ontology and a lock, tied to one drive.

::

    PROJECT/
      project.sqlite (+ -wal, -shm)   annotations, command log, frame status, settings, drive reference
      ontology.yaml                   the project's classes (docs/ontology.md)
      project.lock                    flock-ed by the process that may write; holds its pid

The drive itself is only referenced (absolute path, path relative to the project, scene,
fingerprint) and never modified. A second process opening the same project gets it read-only and
is told why.

A drive folder holding several scenes (a nuScenes dataroot, a KITTI tracking folder with several
sequences) gets one project per scene: ``<drive>/.fusionlabel-project-<scene>``. A project records
its scene and reopens the drive on it; asked for another scene, it refuses and names its own.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import shutil
from pathlib import Path
from typing import Any

from ..errors import DriveError, InputError
from ..io.drives import check_image_size_option, drive_layout, open_drive
from ..model.document import Document
from ..model.drive import Drive
from ..model.ontology import DEFAULT_PATH, Ontology, OntologyError
from .db import CREATING_SUFFIX, DamagedStoreError, ProjectStore, StoreError
from .fingerprint import drive_record, drive_scene, fingerprint_differences
from .label_import import ImportReport, import_drive_labels
from .lock import ProjectLock

DB_NAME = "project.sqlite"
ONTOLOGY_NAME = "ontology.yaml"
LOCK_NAME = "project.lock"
DEFAULT_FOLDER_NAME = ".fusionlabel-project"


class ProjectError(InputError):
    """A project folder cannot be created or opened as asked (names the folder and the problem)."""


def is_project(path: str | Path) -> bool:
    """True when ``path`` is a project folder."""
    return (Path(path) / DB_NAME).is_file()


def user_projects_dir() -> Path:
    """Where projects of read-only drives go: $FUSIONLABEL_PROJECTS_DIR, else
    $XDG_DATA_HOME/fusionlabel/projects, else ~/.local/share/fusionlabel/projects."""
    env = os.environ.get("FUSIONLABEL_PROJECTS_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "fusionlabel" / "projects"


def _folder_writable(folder: Path) -> bool:
    """Can we create files in ``folder``? A folder whose mode has no write bit (``chmod a-w``) is
    read-only for everyone, root too, though root could write into it: whoever made it so meant
    the data to stay untouched. Otherwise tried for real (a read-only mount refuses even root)."""
    try:
        if not folder.stat().st_mode & 0o222:
            return False
    except OSError:
        return False
    probe = folder / f".fusionlabel-write-test-{os.getpid()}"
    try:
        probe.mkdir()
        probe.rmdir()
        return True
    except OSError:
        return False


def project_file_names() -> list[str]:
    """The files a project consists of, but its lock file: the database (with its WAL, shared
    memory and journal, and the partial one of a creation) and the ontology."""
    partial = DB_NAME + CREATING_SUFFIX
    return [DB_NAME + ext for ext in ("", "-wal", "-shm", "-journal")] + [partial, partial + "-journal", ONTOLOGY_NAME]


def _remove_project_files(folder: Path, made: Path | None, keep_lock: bool = False) -> None:
    """Undo the creation of a project in ``folder``: remove ``made`` (the top-most folder the
    creation made) or, when the folder was there before, only the files a project consists of
    (all but the lock file with ``keep_lock``, for a creation that replaces an unfinished one)."""
    if made is not None:
        shutil.rmtree(made, ignore_errors=True)
        return
    for name in project_file_names() + ([] if keep_lock else [LOCK_NAME]):
        try:
            (folder / name).unlink()
        except FileNotFoundError:
            pass


def interrupted_creation(folder: str | Path) -> bool:
    """True when ``folder`` holds a project whose creation has not finished: made with the drive's
    labels (``project create --import-labels``, the app's first open) and stopped before they were
    all in (killed, or still running in another process)."""
    try:
        store = ProjectStore(Path(folder) / DB_NAME, read_only=True, read_only_reason="looking at its state")
    except StoreError:
        return False
    try:
        return store.incomplete()
    finally:
        store.close()


def _incomplete_message(folder: Path, store: ProjectStore, lock: ProjectLock) -> str:
    """Why an unfinished project (:func:`interrupted_creation`) does not open, and what to run."""
    probe = ProjectLock(lock.path)
    try:
        free = lock.held or probe.acquire()
    except OSError:
        free = True
    finally:
        probe.release()
    if not free:
        holder = lock.holder()
        return (f"this project is still being created by another process{' (' + holder + ')' if holder else ''}; "
                "wait for it to finish")
    rec = store.drive_record()
    scene = f" --scene {shlex.quote(rec.scene)}" if rec.scene else ""
    q = shlex.quote
    return ("the creation of this project was interrupted before the drive's labels were all imported; run "
            f"`fusionlabel project create {q(rec.path)}{scene} --out {q(str(folder))} --import-labels` again to "
            f"make it anew, or `fusionlabel project import-labels {q(str(folder))}` to finish it")


def _open_store(folder: Path, reason: str | None) -> ProjectStore:
    """The project's database, read-only when ``reason`` says why; a database SQLite cannot read
    is refused naming the newest sound copy (:mod:`.backup`) and the command that puts it back."""
    try:
        return ProjectStore(folder / DB_NAME, read_only=reason is not None, read_only_reason=reason)
    except DamagedStoreError as e:
        from .backup import newest_sound

        if (copy := newest_sound(folder)) is None:
            raise
        raise StoreError(e.path, f"{e.problem}; the newest sound copy is {copy}: `fusionlabel project restore "
                                 f"{shlex.quote(str(folder))}` puts it back (the work done since it was made "
                                 "is lost; the damaged database is kept beside it)") from None


def take_lock(folder: Path, doing: str) -> ProjectLock:
    """The project's lock, taken, for a command that changes the project's files (``doing``: what
    it does, e.g. ``restore``); ProjectError, nothing changed, when it cannot be taken or another
    process has the project open. The caller releases it."""
    lock = ProjectLock(folder / LOCK_NAME)
    try:
        free = lock.acquire()
    except OSError as e:
        raise ProjectError(folder, f"cannot {doing} the project: {e.strerror or e}; nothing was changed") from None
    if not free:
        raise ProjectError(folder, f"{lock.taken_by('this project')}; close it there and run this again "
                                   "(nothing was changed)")
    return lock


def restore_from_backup(folder: str | Path) -> tuple[Path, Path | None]:
    """Put the newest sound copy of ``folder``'s database back (:func:`.backup.restore_newest`)
    while holding the project's lock. Returns (the copy, where the old database went). ProjectError
    when another process has the project open or no sound copy exists."""
    from .backup import BACKUP_DIR, restore_newest

    folder = Path(folder).absolute()
    lock = take_lock(folder, "restore")
    try:
        return restore_newest(folder, DB_NAME)
    except FileNotFoundError:
        raise ProjectError(folder, f"no sound copy of the database in {folder / BACKUP_DIR} (copies are made when "
                                   "the project opens, at most every 12 hours); nothing was changed") from None
    finally:
        lock.release()


def default_project_folder(drive_path: str | Path, scene: str | None = None) -> Path:
    """``<drive>/.fusionlabel-project`` if it exists or the drive folder is writable, else a
    folder under :func:`user_projects_dir` named after the drive and a hash of its path.

    ``scene`` (a scene or sequence *name*, as :func:`~fusionlabel.store.fingerprint.drive_scene`
    gives it) appends ``-<scene>``: each scene of a drive folder has its own project."""
    drive_path = Path(drive_path).absolute()
    suffix = "" if scene is None else "-" + re.sub(r"[^A-Za-z0-9._-]", "_", scene)
    inside = drive_path / (DEFAULT_FOLDER_NAME + suffix)
    if is_project(inside) or (drive_path.is_dir() and _folder_writable(drive_path)):
        return inside
    digest = hashlib.sha1(str(drive_path).encode()).hexdigest()[:12]
    return user_projects_dir() / f"{drive_path.name or 'drive'}-{digest}{suffix}"


def _holds_scene(folder: Path, drive: Drive, drive_path: Path, scene: str) -> bool:
    """Whether ``folder`` holds the project of ``drive`` (scene ``scene``): it recorded that scene,
    or, made before projects recorded scenes, its fingerprint matches. For the scene-less default
    folder of a drive opened on a scene, so that such an older project is still found."""
    if not is_project(folder):
        return False
    try:
        store = ProjectStore(folder / DB_NAME, read_only=True, read_only_reason="looking up its scene")
    except StoreError:
        return False
    try:
        rec = store.drive_record()
    finally:
        store.close()
    if rec.scene is not None:
        return rec.scene == scene
    return not fingerprint_differences(rec, drive_record(drive, drive_path, folder))


class Project:
    """An open project: ``drive``, ``document`` (with undo history), ``ontology``, settings.

    Use :meth:`create`, :meth:`open` or :meth:`open_or_create_for_drive`, and :meth:`close` (or a
    ``with`` block). ``read_only`` is True when another process has the project open; then
    ``read_only_reason`` says which, edits raise ReadOnlyError and settings are not saved.
    ``warnings`` lists problems that did not stop the opening (e.g. a broken ontology file, in
    which case the built-in ontology is used).
    """

    def __init__(self, folder: Path, store: ProjectStore, drive: Drive, ontology: Ontology,
                 lock: ProjectLock, warnings: list[str]):
        self.folder = folder
        self.store = store
        self.drive = drive
        self.ontology = ontology
        self._lock = lock
        self.warnings = warnings
        self._seen_version = store.data_version()
        self.document = Document(len(drive), ontology, store)
        self.created = False            # made by this process (see :meth:`discard`)
        self.import_report: ImportReport | None = None   # what creating it with import_labels imported
        self._made_folder: Path | None = None
        self.held_elsewhere = False     # read-only because another process has it open (not its folder)
        self.held_here = False          # read-only because this process has it open already (another window)

    # ------------------------------------------------------------------ opening
    @classmethod
    def create(cls, folder: str | Path, drive_path: str | Path, ontology_path: str | Path | None = None,
               import_labels: bool = False, scene: str | None = None, drive: Drive | None = None,
               progress: bool = True, beside_files_ok: bool = False, skip_bad_frames: bool = True) -> "Project":
        """Create a project for a drive in ``folder`` (created if needed; must not hold a project,
        unless one whose creation was interrupted: :func:`interrupted_creation`, which is replaced).
        A folder holding other files but no project is refused (ProjectError naming it,
        :mod:`.new_folder`), unless ``beside_files_ok``: the files that stayed beside a project
        ``project create --force`` has just moved aside.

        The ontology file (default: the built-in one) is validated and copied into the project.
        With ``import_labels`` the drive's own labels become the first command and the project's
        starting point, which undo stops above (its report in :attr:`import_report`, ``progress``
        shows a bar); until they are all in, the
        project is marked unfinished, so that a creation killed half-way is known as such by
        :meth:`open` and replaced by the next :meth:`create`.
        ``scene`` picks the scene of a nuScenes dataroot or the sequence of a KITTI tracking folder
        (as :func:`~fusionlabel.io.drives.open_drive`); the project records its name. ``drive`` is
        the drive at ``drive_path`` when the caller has it open already (it is then not opened again).
        ``skip_bad_frames`` False: a drive label file that cannot be read raises its error and no
        project is left (by default that frame's labels are left out and listed in the report).
        """
        drive_path = Path(drive_path).absolute()
        if drive is None:
            drive = open_drive(drive_path, scene)
        return cls._create(folder, drive_path, drive, ontology_path, import_labels, progress, beside_files_ok,
                           skip_bad_frames)

    @classmethod
    def _create(cls, folder: str | Path, drive_path: Path, drive: Drive, ontology_path: str | Path | None,
                import_labels: bool, progress: bool = True, beside_files_ok: bool = False,
                skip_bad_frames: bool = True) -> "Project":
        """:meth:`create` with the drive already open."""
        from .new_folder import refuse_foreign_folder

        folder = Path(folder).absolute()
        unfinished = is_project(folder)
        if unfinished and not interrupted_creation(folder):
            raise ProjectError(folder, "already holds a project; open it instead")
        if not beside_files_ok:
            refuse_foreign_folder(folder)
        if len(drive) == 0:
            raise DriveError(drive_path, "the drive has no frames")
        source = Path(ontology_path) if ontology_path is not None else DEFAULT_PATH
        ontology = Ontology.load(source)
        made = next((p for p in reversed([folder, *folder.parents]) if not p.exists()), None)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise ProjectError(folder, f"cannot create the project folder ({e.strerror or e})") from None
        lock = ProjectLock(folder / LOCK_NAME)
        if not lock.acquire():
            raise ProjectError(folder, f"another process is creating this project ({lock.holder()})")
        if unfinished and not interrupted_creation(folder):   # finished by another process meanwhile
            lock.release()
            raise ProjectError(folder, "already holds a project; open it instead")
        try:
            if unfinished:
                _remove_project_files(folder, None, keep_lock=True)
            shutil.copyfile(source, folder / ONTOLOGY_NAME)
            store = ProjectStore.create(folder / DB_NAME, drive_record(drive, drive_path, folder),
                                        incomplete=import_labels)
        except BaseException:
            lock.release()
            _remove_project_files(folder, made)
            raise
        project = cls(folder, store, drive, ontology, lock, [])
        project.created, project._made_folder = True, made
        if import_labels:
            try:
                project.import_report = project.import_drive_labels(progress=progress, skip_bad_frames=skip_bad_frames)
            except BaseException:
                project.discard()
                raise
            project.warnings.extend(project.import_report.problems())
        return project

    @classmethod
    def open(cls, folder: str | Path, drive_path: str | Path | None = None, read_only: bool = False,
             scene: str | None = None, image_size: tuple[int, int] | None = None,
             unfinished_ok: bool = False) -> "Project":
        """Open an existing project. ``drive_path`` relinks a drive that was moved (its fingerprint
        must still match). Read-only, and saying so, when another process holds the project;
        ``read_only=True`` asks for that (exporters, QA) and leaves the project free for an editor.

        The drive opens on the scene the project recorded. ``scene``, when given, must name that
        scene (any spelling :func:`~fusionlabel.io.drives.open_drive` accepts); another scene raises
        ProjectError naming the project's own.

        ``image_size`` (``--image-size``: width, height of camera ``image_2``) gives that size to a
        KITTI tracking drive without images; a drive that knows the size must agree (DriveError
        naming the camera and the project otherwise: :func:`~fusionlabel.io.drives.check_image_size_option`).

        A project whose creation was interrupted (:func:`interrupted_creation`) raises ProjectError
        saying so and what to run, unless ``unfinished_ok`` (to finish it: :meth:`import_drive_labels`)."""
        return cls._open(folder, drive_path, read_only, scene, None, image_size, unfinished_ok)

    @classmethod
    def _open(cls, folder: str | Path, drive_path: str | Path | None, read_only: bool, scene: str | None,
              drive: Drive | None, image_size: tuple[int, int] | None = None,
              unfinished_ok: bool = False) -> "Project":
        """:meth:`open`, with the drive at ``drive_path`` already open when ``drive`` is given."""
        folder = Path(folder).absolute()
        if not is_project(folder):
            raise ProjectError(folder, f"not a fusionlabel project: no {DB_NAME} in this folder")
        lock = ProjectLock(folder / LOCK_NAME)
        reason, held, here = None, False, False
        try:
            if read_only:
                reason = "opened read-only on request"
            elif not lock.acquire():
                here = lock.held_here
                held = not here
                reason = f"{lock.taken_by(f'project {folder}')}; opened read-only"
        except OSError as e:
            reason = f"project folder {folder} is not writable ({e.strerror or e}); opened read-only"
        try:
            store = _open_store(folder, reason)
            try:
                if not unfinished_ok and store.incomplete():
                    raise ProjectError(folder, _incomplete_message(folder, store, lock))
                store.back_up(folder)   # when one is due: a damaged database later costs only what came after
                drive = cls._open_drive(folder, store, drive_path, scene, drive, image_size)
            except BaseException:
                store.close()
                raise
        except BaseException:
            lock.release()
            raise
        warnings = [reason] if reason and not read_only else []
        ontology = cls._load_ontology(folder, warnings)
        project = cls(folder, store, drive, ontology, lock, warnings)
        project.held_elsewhere = held
        project.held_here = here
        return project

    @classmethod
    def open_or_create_for_drive(cls, drive_path: str | Path, folder: str | Path | None = None,
                                 import_labels: bool = True, scene: str | None = None) -> "Project":
        """Open the project of a drive, creating it on first use. ``drive_path`` may also be a
        project folder. Default folder: :func:`default_project_folder`, with the scene's name for a
        drive folder holding scenes (``.fusionlabel-project-<scene>``: one project per scene; a
        scene-less ``.fusionlabel-project`` that holds this scene's project, made before projects
        were kept per scene, is used instead). ``scene`` as in :meth:`create`. A new project starts
        with the drive's own labels (its starting point, which undo stops above) unless
        ``import_labels`` is False."""
        drive_path = Path(drive_path).absolute()
        if is_project(drive_path):
            return cls.open(drive_path, scene=scene)
        if folder is not None:
            folder = Path(folder).absolute()
            if is_project(folder) and not interrupted_creation(folder):
                return cls.open(folder, drive_path=drive_path, scene=scene)
            return cls.create(folder, drive_path, import_labels=import_labels, scene=scene)
        drive = open_drive(drive_path, scene)
        name = drive_scene(drive)
        folder = default_project_folder(drive_path, name)
        if name is not None and not is_project(folder):
            older = default_project_folder(drive_path)
            if _holds_scene(older, drive, drive_path, name):
                folder = older
        if is_project(folder) and not interrupted_creation(folder):
            return cls._open(folder, drive_path, False, scene, drive)
        return cls._create(folder, drive_path, drive, None, import_labels)   # replaces an unfinished one

    @staticmethod
    def _open_drive(folder: Path, store: ProjectStore, drive_path: str | Path | None, scene: str | None,
                    drive: Drive | None, image_size: tuple[int, int] | None = None) -> Drive:
        rec = store.drive_record()
        if drive_path is not None:
            candidates = [Path(drive_path).absolute()]
        else:
            candidates = [Path(rec.path)]
            if rec.relpath:
                relative = Path(os.path.normpath(folder / rec.relpath))
                # a project kept inside its drive goes with that drive when both are moved or copied
                candidates.insert(0 if rec.relpath == os.pardir else 1, relative)
        found = next((c for c in candidates if c.exists()), None)
        if found is None and drive_path is not None:
            raise DriveError(candidates[0], "no such file or folder")
        if found is None:
            raise DriveError(candidates[0], f"the drive of project {folder} is not there (recorded path "
                                            f"{rec.path}); if it moved, relink the project to its new place: "
                                            f"fusionlabel project relink {shlex.quote(str(folder))} NEW_DRIVE")
        if drive is None:   # only a KITTI tracking reader takes a size; other drives are checked against it
            sized = image_size if drive_layout(found) == "kitti_tracking" else None
            drive = open_drive(found, scene if scene is not None else rec.scene, sized)
        current = drive_record(drive, found, folder)
        if rec.scene is not None and current.scene != rec.scene:
            raise ProjectError(folder, f"this project is for scene {rec.scene} of drive {found}, not scene "
                                       f"{current.scene}; each scene has its own project: open the drive "
                                       f"with --scene {current.scene} and without --project")
        diffs = fingerprint_differences(rec, current)
        if diffs:
            raise ProjectError(found, "this is not the drive the project was made for, or it changed since: "
                                      + "; ".join(diffs) + f" (project {folder})")
        check_image_size_option(drive, image_size, folder)
        if (current.path, current.relpath, current.scene) != (rec.path, rec.relpath, rec.scene) \
                and not store.read_only:
            # the scene too: a project made before projects recorded scenes learns its own here
            store.update_drive_reference(current.path, current.relpath, current.scene)
        return drive

    @staticmethod
    def _load_ontology(folder: Path, warnings: list[str]) -> Ontology:
        try:
            return Ontology.load(folder / ONTOLOGY_NAME)
        except OntologyError as e:
            warnings.append(f"{e}; using the built-in ontology until the file is fixed")
            return Ontology.default()

    # ------------------------------------------------------------------ state
    @property
    def read_only(self) -> bool:
        return self.store.read_only

    @property
    def read_only_reason(self) -> str | None:
        return self.store.read_only_reason

    def require_writable(self, action: str) -> None:
        """ProjectError *"PROJECT: cannot ACTION now: why"* when the project opened read-only
        (another process has it open, its folder is not writable), for a batch command that must write."""
        if self.read_only:
            reason = (self.read_only_reason or "opened read-only").removesuffix("; opened read-only")
            raise ProjectError(self.folder, f"cannot {action} now: {reason}")

    @property
    def ontology_path(self) -> Path:
        return self.folder / ONTOLOGY_NAME

    @property
    def settings(self) -> dict[str, Any]:
        """A copy of every setting."""
        return self.store.settings()

    def get_setting(self, key: str, default: Any = None) -> Any:
        return self.store.get_setting(key, default)

    def set_setting(self, key: str, value: Any) -> None:
        """Save a JSON-serialisable setting now (current frame, view options ...)."""
        self.store.set_setting(key, value)

    def integrity_check(self) -> str:
        return self.store.integrity_check()

    def refresh(self) -> bool:
        """Reload the document if another process committed since (for a read-only instance,
        e.g. on a timer); True when it reloaded (subscribers get a ``reload`` Change)."""
        version = self.store.data_version()
        if version == self._seen_version:
            return False
        self._seen_version = version
        self.document.reload()
        return True

    def close(self) -> None:
        """Close the database and release the lock (the document can no longer be edited)."""
        self.store.close()
        self._lock.release()

    def discard(self) -> None:
        """Close a project this process has just created (:attr:`created`) and remove what creating
        it wrote: the folder, when creating made it, else only the project's own files. For a run
        that failed before the project was of any use (a bad ``--frame``): it leaves no project
        behind. A project that existed before is only closed, never removed."""
        self.close()
        if self.created:
            _remove_project_files(self.folder, self._made_folder)

    def __enter__(self) -> "Project":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        mode = " read-only" if self.read_only else ""
        return f"Project({str(self.folder)!r}, drive={self.drive.name!r}, {len(self.document)} cuboids{mode})"

    # ------------------------------------------------------------------ import
    def import_drive_labels(self, frames: list[int] | None = None, progress: bool = True,
                            skip_bad_frames: bool = True, finish_unread: bool = True) -> ImportReport:
        """Add the labels that came with the drive (ground truth or imported files) that the
        project does not have yet, as one undoable command; importing again adds nothing twice.
        Classes are mapped through the ontology (names, aliases, any case), the source's own class
        name and the states it gives are kept
        (:func:`~fusionlabel.model.source_class.project_label`); labels of unknown classes are
        skipped and counted; unreadable label files are listed (raised with ``skip_bad_frames``
        False, nothing imported). A label imported before (still
        there, edited or deleted since) or overlapping a box already in its frame is skipped and
        counted (:mod:`~fusionlabel.store.label_import`); :meth:`ImportReport.summary` says it all
        in one line.

        The import that finishes the project's creation (:meth:`create` with ``import_labels``, or
        importing every frame of a project whose creation was interrupted: :func:`interrupted_creation`)
        is the project's starting point (:meth:`Document.make_starting_point`): undo stops above
        it. A later import is one undo step like any edit. ``finish_unread`` False: an import that
        could read no frame's label file (:meth:`ImportReport.read_no_frame`) leaves such a project
        unfinished, so that a later import can finish it (``project import-labels --skip-bad-frames``)."""
        report = import_drive_labels(self.document, self.drive, self.ontology, frames, progress, skip_bad_frames)
        if not finish_unread and report.read_no_frame(self.drive):
            return report
        if frames is None and not self.read_only and self.store.incomplete():
            self.document.make_starting_point()
            self.store.mark_complete()
        return report


class StoredProject:
    """A project read from its folder alone, for reports (``fusionlabel project status``): the
    database opened read-only without the write lock (an app editing it goes on undisturbed), its
    ``document`` (built when first used), ``drive`` reference (:class:`~.db.DriveRecord`: name,
    frame IDs) and ``ontology``.
    The drive itself is not opened and need not be there. Raises ProjectError for a folder that is
    not a project or whose creation was interrupted, StoreError for a database this version cannot
    read (a newer schema). Close it, or use it in a ``with`` block."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder).absolute()
        if not is_project(self.folder):
            raise ProjectError(self.folder, f"not a fusionlabel project: no {DB_NAME} in this folder")
        self.store = _open_store(self.folder, "opened for a report")
        try:
            if self.store.incomplete():
                raise ProjectError(self.folder, _incomplete_message(self.folder, self.store,
                                                                    ProjectLock(self.folder / LOCK_NAME)))
            self.drive = self.store.drive_record()
            self.warnings: list[str] = []
            self.ontology = Project._load_ontology(self.folder, self.warnings)
        except BaseException:
            self.store.close()
            raise
        self._document: Document | None = None

    @property
    def document(self) -> Document:
        """The whole document, built when first asked for (a long drive's takes seconds and
        hundreds of MB: ``project status`` reads its figures from the database instead)."""
        if self._document is None:
            self._document = Document(len(self.drive.frame_ids), self.ontology, self.store)
        return self._document

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> "StoredProject":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

def relink_drive(folder: str | Path, drive_path: str | Path) -> tuple[str, str]:
    """Point project ``folder`` at its drive's new place ``drive_path`` (a moved or copied drive)
    and return the recorded path before and after. The drive found there must match the project's
    fingerprint (ProjectError naming what differs otherwise); a project another process has open
    is refused (ProjectError), nothing is changed then."""
    folder = Path(folder).absolute()
    if not is_project(folder):
        raise ProjectError(folder, f"not a fusionlabel project: no {DB_NAME} in this folder")
    store = _open_store(folder, "reading its drive reference")
    try:
        before = store.drive_record().path
    finally:
        store.close()
    with Project.open(folder, drive_path=drive_path) as project:
        project.require_writable("relink it")
        return before, project.store.drive_record().path


def open_project_or_drive(path: str | Path, scene: str | None = None) -> Project:
    """What ``fusionlabel open PATH [--scene S]`` does: a project folder opens as is; a drive opens
    (or gets) its default project (one per scene of a drive folder holding scenes)."""
    path = Path(path)
    if not path.exists():
        raise ProjectError(path, "no such file or folder")
    return Project.open_or_create_for_drive(path, scene=scene)
