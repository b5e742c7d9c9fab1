-- A project database written by fusionlabel before the command classes were refactored (bf39179):
-- 14 logged commands covering every command kind, the last one undone. Drive: make_fake_drive(n_frames=4,
-- labels=True). Used by tests/test_command_log_compat.py; regenerate never (it pins the old format).
BEGIN TRANSACTION;
CREATE TABLE annotations (
    uid TEXT PRIMARY KEY,
    frame INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    track_id TEXT,
    class TEXT NOT NULL,
    source TEXT NOT NULL,
    score REAL,
    cx REAL NOT NULL, cy REAL NOT NULL, cz REAL NOT NULL,
    length REAL NOT NULL, width REAL NOT NULL, height REAL NOT NULL,
    yaw REAL NOT NULL, pitch REAL NOT NULL, roll REAL NOT NULL,
    attributes TEXT NOT NULL
);
INSERT INTO "annotations" VALUES('8c163619603e42798c9dd82cd135d068',0,0,'1','car','import',NULL,12.27,-1.0,-1.03,4.2,1.8,1.5,-2.07963267948965725706e-02,0.0,0.0,'{"truncated": 0.0, "occluded": 0, "alpha": -1.5, "bbox_2d": [500.0, 150.0, 600.0, 250.0], "kitti_camera": "image_2", "kitti_geometry": [1.5, 1.8, 4.2, 1.0, 1.7, 12.0, -1.55], "occlusion": "none", "note": "", "parked": false}');
INSERT INTO "annotations" VALUES('c9f71509fcc04e1387fa7bdcc5f414d8',0,1,'2','pedestrian','import',NULL,8.27,2.0,-9.04999999999999915623e-01,0.8,0.6,1.75,-1.67079632679489664681e+00,0.0,0.0,'{"truncated": 0.0, "occluded": 1, "alpha": 0.2, "bbox_2d": [700.0, 140.0, 730.0, 240.0], "kitti_camera": "image_2", "kitti_geometry": [1.75, 0.6, 0.8, -2.0, 1.7, 8.0, 0.1], "occlusion": "none", "note": "", "pose": "standing"}');
INSERT INTO "annotations" VALUES('44438a84931c417081e5c359a152d8b5',1,2,'3','car','import',NULL,12.27,-1.0,-1.03,4.2,1.8,1.5,-2.07963267948965725706e-02,0.0,0.0,'{"truncated": 0.0, "occluded": 0, "alpha": -1.5, "bbox_2d": [500.0, 150.0, 600.0, 250.0], "kitti_camera": "image_2", "kitti_geometry": [1.5, 1.8, 4.2, 1.0, 1.7, 12.0, -1.55], "occlusion": "none", "note": "", "parked": false}');
INSERT INTO "annotations" VALUES('b61d42261dd24b07a684972523c052c6',1,3,'4','pedestrian','import',NULL,8.27,2.0,-9.04999999999999915623e-01,0.8,0.6,1.75,-1.67079632679489664681e+00,0.0,0.0,'{"truncated": 0.0, "occluded": 1, "alpha": 0.2, "bbox_2d": [700.0, 140.0, 730.0, 240.0], "kitti_camera": "image_2", "kitti_geometry": [1.75, 0.6, 0.8, -2.0, 1.7, 8.0, 0.1], "occlusion": "none", "note": "", "pose": "standing"}');
INSERT INTO "annotations" VALUES('a231121a88fd4b11a62804f4019fd648',2,4,'5','car','import',NULL,12.27,-1.0,-1.03,4.2,1.8,1.5,-2.07963267948965725706e-02,0.0,0.0,'{"truncated": 0.0, "occluded": 0, "alpha": -1.5, "bbox_2d": [500.0, 150.0, 600.0, 250.0], "kitti_camera": "image_2", "kitti_geometry": [1.5, 1.8, 4.2, 1.0, 1.7, 12.0, -1.55], "occlusion": "none", "note": "", "parked": false}');
INSERT INTO "annotations" VALUES('ff085db3ba724818a7494df4aec1a463',2,5,'6','pedestrian','import',NULL,8.27,2.0,-9.04999999999999915623e-01,0.8,0.6,1.75,-1.67079632679489664681e+00,0.0,0.0,'{"truncated": 0.0, "occluded": 1, "alpha": 0.2, "bbox_2d": [700.0, 140.0, 730.0, 240.0], "kitti_camera": "image_2", "kitti_geometry": [1.75, 0.6, 0.8, -2.0, 1.7, 8.0, 0.1], "occlusion": "none", "note": "", "pose": "standing"}');
INSERT INTO "annotations" VALUES('e6452bd8b12b4ea0881bffc3170b87c1',3,6,'7','car','import',NULL,12.27,-1.0,-1.03,4.2,1.8,1.5,-2.07963267948965725706e-02,0.0,0.0,'{"truncated": 0.0, "occluded": 0, "alpha": -1.5, "bbox_2d": [500.0, 150.0, 600.0, 250.0], "kitti_camera": "image_2", "kitti_geometry": [1.5, 1.8, 4.2, 1.0, 1.7, 12.0, -1.55], "occlusion": "none", "note": "", "parked": false}');
INSERT INTO "annotations" VALUES('5dc91332ce6b4955a0fdc49cdf69b695',3,7,'8','pedestrian','import',NULL,8.27,2.0,-9.04999999999999915623e-01,0.8,0.6,1.75,-1.67079632679489664681e+00,0.0,0.0,'{"truncated": 0.0, "occluded": 1, "alpha": 0.2, "bbox_2d": [700.0, 140.0, 730.0, 240.0], "kitti_camera": "image_2", "kitti_geometry": [1.75, 0.6, 0.8, -2.0, 1.7, 8.0, 0.1], "occlusion": "none", "note": "", "pose": "standing"}');
INSERT INTO "annotations" VALUES('8eee89e0d6dc87d329b5970fa53b01cf',0,8,'track-9','car','human',NULL,5.0,1.0,-0.5,4.2,1.8,1.5,0.3,0.0,0.0,'{"occlusion": "partial", "note": "hi", "parked": false, "extra": [1, 2.5]}');
INSERT INTO "annotations" VALUES('2799a616c87dabe44134ed54728cc4df',3,10,'track-9','truck','human',NULL,6.0,1.5,-0.5,4.4,1.9,1.6,3.14159265258979303325e+00,0.01,-0.02,'{"occlusion": "partial", "note": "hi", "parked": false, "extra": [1, 2.5]}');
CREATE TABLE commands (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    description TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('done', 'undone', 'discarded')),
    created_us INTEGER NOT NULL,
    changed_us INTEGER NOT NULL
);
INSERT INTO "commands" VALUES(1,'batch','Import 8 labels from the drive','{"type":"batch","commands":[{"type":"create","frame":0,"label":{"box":{"center":[12.27,-1.0,-1.03],"size":[4.2,1.8,1.5],"yaw":-0.020796326794896573,"pitch":0.0,"roll":0.0},"label":"car","track_id":"1","score":null,"source":"import","attributes":{"truncated":0.0,"occluded":0,"alpha":-1.5,"bbox_2d":[500.0,150.0,600.0,250.0],"kitti_camera":"image_2","kitti_geometry":[1.5,1.8,4.2,1.0,1.7,12.0,-1.55],"occlusion":"none","note":"","parked":false}},"uid":"8c163619603e42798c9dd82cd135d068","seq":0},{"type":"create","frame":0,"label":{"box":{"center":[8.27,2.0,-0.9049999999999999],"size":[0.8,0.6,1.75],"yaw":-1.6707963267948966,"pitch":0.0,"roll":0.0},"label":"pedestrian","track_id":"2","score":null,"source":"import","attributes":{"truncated":0.0,"occluded":1,"alpha":0.2,"bbox_2d":[700.0,140.0,730.0,240.0],"kitti_camera":"image_2","kitti_geometry":[1.75,0.6,0.8,-2.0,1.7,8.0,0.1],"occlusion":"none","note":"","pose":"standing"}},"uid":"c9f71509fcc04e1387fa7bdcc5f414d8","seq":1},{"type":"create","frame":1,"label":{"box":{"center":[12.27,-1.0,-1.03],"size":[4.2,1.8,1.5],"yaw":-0.020796326794896573,"pitch":0.0,"roll":0.0},"label":"car","track_id":"3","score":null,"source":"import","attributes":{"truncated":0.0,"occluded":0,"alpha":-1.5,"bbox_2d":[500.0,150.0,600.0,250.0],"kitti_camera":"image_2","kitti_geometry":[1.5,1.8,4.2,1.0,1.7,12.0,-1.55],"occlusion":"none","note":"","parked":false}},"uid":"44438a84931c417081e5c359a152d8b5","seq":2},{"type":"create","frame":1,"label":{"box":{"center":[8.27,2.0,-0.9049999999999999],"size":[0.8,0.6,1.75],"yaw":-1.6707963267948966,"pitch":0.0,"roll":0.0},"label":"pedestrian","track_id":"4","score":null,"source":"import","attributes":{"truncated":0.0,"occluded":1,"alpha":0.2,"bbox_2d":[700.0,140.0,730.0,240.0],"kitti_camera":"image_2","kitti_geometry":[1.75,0.6,0.8,-2.0,1.7,8.0,0.1],"occlusion":"none","note":"","pose":"standing"}},"uid":"b61d42261dd24b07a684972523c052c6","seq":3},{"type":"create","frame":2,"label":{"box":{"center":[12.27,-1.0,-1.03],"size":[4.2,1.8,1.5],"yaw":-0.020796326794896573,"pitch":0.0,"roll":0.0},"label":"car","track_id":"5","score":null,"source":"import","attributes":{"truncated":0.0,"occluded":0,"alpha":-1.5,"bbox_2d":[500.0,150.0,600.0,250.0],"kitti_camera":"image_2","kitti_geometry":[1.5,1.8,4.2,1.0,1.7,12.0,-1.55],"occlusion":"none","note":"","parked":false}},"uid":"a231121a88fd4b11a62804f4019fd648","seq":4},{"type":"create","frame":2,"label":{"box":{"center":[8.27,2.0,-0.9049999999999999],"size":[0.8,0.6,1.75],"yaw":-1.6707963267948966,"pitch":0.0,"roll":0.0},"label":"pedestrian","track_id":"6","score":null,"source":"import","attributes":{"truncated":0.0,"occluded":1,"alpha":0.2,"bbox_2d":[700.0,140.0,730.0,240.0],"kitti_camera":"image_2","kitti_geometry":[1.75,0.6,0.8,-2.0,1.7,8.0,0.1],"occlusion":"none","note":"","pose":"standing"}},"uid":"ff085db3ba724818a7494df4aec1a463","seq":5},{"type":"create","frame":3,"label":{"box":{"center":[12.27,-1.0,-1.03],"size":[4.2,1.8,1.5],"yaw":-0.020796326794896573,"pitch":0.0,"roll":0.0},"label":"car","track_id":"7","score":null,"source":"import","attributes":{"truncated":0.0,"occluded":0,"alpha":-1.5,"bbox_2d":[500.0,150.0,600.0,250.0],"kitti_camera":"image_2","kitti_geometry":[1.5,1.8,4.2,1.0,1.7,12.0,-1.55],"occlusion":"none","note":"","parked":false}},"uid":"e6452bd8b12b4ea0881bffc3170b87c1","seq":6},{"type":"create","frame":3,"label":{"box":{"center":[8.27,2.0,-0.9049999999999999],"size":[0.8,0.6,1.75],"yaw":-1.6707963267948966,"pitch":0.0,"roll":0.0},"label":"pedestrian","track_id":"8","score":null,"source":"import","attributes":{"truncated":0.0,"occluded":1,"alpha":0.2,"bbox_2d":[700.0,140.0,730.0,240.0],"kitti_camera":"image_2","kitti_geometry":[1.75,0.6,0.8,-2.0,1.7,8.0,0.1],"occlusion":"none","note":"","pose":"standing"}},"uid":"5dc91332ce6b4955a0fdc49cdf69b695","seq":7}],"description":"Import 8 labels from the drive"}','done',1795414592144284,1795414592144284);
INSERT INTO "commands" VALUES(2,'create','Create car','{"type":"create","frame":0,"label":{"box":{"center":[5.0,1.0,-0.5],"size":[4.2,1.8,1.5],"yaw":0.3,"pitch":0.0,"roll":0.0},"label":"car","track_id":"9","score":null,"source":"human","attributes":{"occlusion":"none","note":"","parked":false}},"uid":"8eee89e0d6dc87d329b5970fa53b01cf","seq":8}','done',1795414592145474,1795414592145474);
INSERT INTO "commands" VALUES(3,'create','Create pedestrian','{"type":"create","frame":1,"label":{"box":{"center":[5.0,1.0,-0.5],"size":[4.2,1.8,1.5],"yaw":0.3,"pitch":0.0,"roll":0.0},"label":"pedestrian","track_id":"77","score":0.5,"source":"model","attributes":{"x":[1,2],"occlusion":"none","note":"","pose":"standing"}},"uid":"72a7fc6c3033af8757e60435628a04fe","seq":9}','done',1795414592145906,1795414592145906);
INSERT INTO "commands" VALUES(4,'set_box','Rotate','{"type":"set_box","uid":"8eee89e0d6dc87d329b5970fa53b01cf","box":{"center":[6.0,1.5,-0.5],"size":[4.4,1.9,1.6],"yaw":3.141592652589793,"pitch":0.01,"roll":-0.02},"description":"Rotate","before":{"center":[5.0,1.0,-0.5],"size":[4.2,1.8,1.5],"yaw":0.3,"pitch":0.0,"roll":0.0}}','done',1795414592146306,1795414592146306);
INSERT INTO "commands" VALUES(5,'set_class','Set class truck','{"type":"set_class","uid":"8eee89e0d6dc87d329b5970fa53b01cf","cls":"truck","before":"car"}','done',1795414592146664,1795414592146664);
INSERT INTO "commands" VALUES(6,'set_attributes','Set attributes','{"type":"set_attributes","uid":"8eee89e0d6dc87d329b5970fa53b01cf","attributes":{"occlusion":"partial","note":"hi","gone":null,"extra":[1,2.5]},"before":{"occlusion":"none","note":"","parked":false}}','done',1795414592146966,1795414592146966);
INSERT INTO "commands" VALUES(7,'set_track','Set track track-9','{"type":"set_track","uid":"8eee89e0d6dc87d329b5970fa53b01cf","track_id":"track-9","before":"9"}','done',1795414592147275,1795414592147275);
INSERT INTO "commands" VALUES(8,'set_frame_status','Mark frame 2 in progress','{"type":"set_frame_status","frame":2,"status":"in_progress","before":"new"}','done',1795414592147651,1795414592147651);
INSERT INTO "commands" VALUES(9,'accept_prelabel','Accept pre-label','{"type":"accept_prelabel","uids":["72a7fc6c3033af8757e60435628a04fe"],"before":[{"uid":"72a7fc6c3033af8757e60435628a04fe","frame":1,"label":{"box":{"center":[5.0,1.0,-0.5],"size":[4.2,1.8,1.5],"yaw":0.3,"pitch":0.0,"roll":0.0},"label":"pedestrian","track_id":"77","score":0.5,"source":"model","attributes":{"x":[1,2],"occlusion":"none","note":"","pose":"standing"}}}]}','done',1795414592148020,1795414592148020);
INSERT INTO "commands" VALUES(10,'copy_to_frame','Copy 1 cuboid to frame 3','{"type":"copy_to_frame","uids":["8eee89e0d6dc87d329b5970fa53b01cf"],"target_frame":3,"T_target_source":[1.0,0.0,0.0,0.0,0.0,1.0,0.0,0.0,0.0,0.0,1.0,0.0,0.0,0.0,0.0,1.0],"created":[{"uid":"2799a616c87dabe44134ed54728cc4df","frame":3,"label":{"box":{"center":[6.0,1.5,-0.5],"size":[4.4,1.9,1.6],"yaw":3.141592652589793,"pitch":0.01,"roll":-0.02},"label":"truck","track_id":"track-9","score":null,"source":"human","attributes":{"occlusion":"partial","note":"hi","parked":false,"extra":[1,2.5]}},"seq":10}]}','done',1795414592148605,1795414592148605);
INSERT INTO "commands" VALUES(11,'batch','Two edits','{"type":"batch","commands":[{"type":"set_class","uid":"8eee89e0d6dc87d329b5970fa53b01cf","cls":"car","before":"truck"},{"type":"set_box","uid":"8eee89e0d6dc87d329b5970fa53b01cf","box":{"center":[5.0,1.0,-0.5],"size":[4.2,1.8,1.5],"yaw":0.3,"pitch":0.0,"roll":0.0},"description":"Move","before":{"center":[6.0,1.5,-0.5],"size":[4.4,1.9,1.6],"yaw":3.141592652589793,"pitch":0.01,"roll":-0.02}}],"description":"Two edits"}','done',1795414592149045,1795414592149045);
INSERT INTO "commands" VALUES(12,'delete','Delete cuboid','{"type":"delete","uids":["72a7fc6c3033af8757e60435628a04fe"],"before":[{"uid":"72a7fc6c3033af8757e60435628a04fe","frame":1,"label":{"box":{"center":[5.0,1.0,-0.5],"size":[4.2,1.8,1.5],"yaw":0.3,"pitch":0.0,"roll":0.0},"label":"pedestrian","track_id":"77","score":null,"source":"human","attributes":{"x":[1,2],"occlusion":"none","note":"","pose":"standing","prelabel_score":0.5}},"seq":9}]}','done',1795414592149395,1795414592149395);
INSERT INTO "commands" VALUES(13,'set_frame_status','Mark frame 2 done','{"type":"set_frame_status","frame":2,"status":"done","before":"in_progress"}','done',1795414592149755,1795414592151143);
INSERT INTO "commands" VALUES(14,'delete_track_from','Delete track track-9 from frame 2','{"type":"delete_track_from","track_id":"track-9","frame":2,"before":[{"uid":"2799a616c87dabe44134ed54728cc4df","frame":3,"label":{"box":{"center":[6.0,1.5,-0.5],"size":[4.4,1.9,1.6],"yaw":3.141592652589793,"pitch":0.01,"roll":-0.02},"label":"truck","track_id":"track-9","score":null,"source":"human","attributes":{"occlusion":"partial","note":"hi","parked":false,"extra":[1,2.5]}},"seq":10}]}','undone',1795414592150083,1795414592150429);
CREATE TABLE drive (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    path TEXT NOT NULL,            -- absolute path when the project was created / last relinked
    relpath TEXT,                  -- the same, relative to the project folder (survives moving both)
    name TEXT NOT NULL,
    n_frames INTEGER NOT NULL,
    frame_ids TEXT NOT NULL,       -- JSON list
    lidar_sizes TEXT NOT NULL,     -- JSON list of byte sizes, -1 = missing
    samples TEXT NOT NULL          -- JSON {frame id: SHA-1 of the first 64 KiB of its sweep} for 3 frames
);
INSERT INTO "drive" VALUES(1,'/tmp/dedupe_golden/drive','../drive','dedupe_golden/drive',4,'["000000", "000001", "000002", "000003"]','[16000, 16016, 16032, 16048]','{"000000": "67c5df487a2bfd9c54db8e3a5c2c6aeff7e6cdb1", "000002": "318e7b30358c15bc4f44cfe12915cfc3077cc7a4", "000003": "5ce3f37f5df481d351f476479d67297b0595bdea"}');
CREATE TABLE frame_status (frame INTEGER PRIMARY KEY, status TEXT NOT NULL, changed_us INTEGER NOT NULL);
INSERT INTO "frame_status" VALUES(2,'done',1795414592151143);
CREATE TABLE history (
    id INTEGER PRIMARY KEY,
    command_id INTEGER NOT NULL REFERENCES commands (id),
    action TEXT NOT NULL CHECK (action IN ('apply', 'undo', 'redo')),
    at_us INTEGER NOT NULL
);
INSERT INTO "history" VALUES(1,1,'apply',1795414592144284);
INSERT INTO "history" VALUES(2,2,'apply',1795414592145474);
INSERT INTO "history" VALUES(3,3,'apply',1795414592145906);
INSERT INTO "history" VALUES(4,4,'apply',1795414592146306);
INSERT INTO "history" VALUES(5,5,'apply',1795414592146664);
INSERT INTO "history" VALUES(6,6,'apply',1795414592146966);
INSERT INTO "history" VALUES(7,7,'apply',1795414592147275);
INSERT INTO "history" VALUES(8,8,'apply',1795414592147651);
INSERT INTO "history" VALUES(9,9,'apply',1795414592148020);
INSERT INTO "history" VALUES(10,10,'apply',1795414592148605);
INSERT INTO "history" VALUES(11,11,'apply',1795414592149045);
INSERT INTO "history" VALUES(12,12,'apply',1795414592149395);
INSERT INTO "history" VALUES(13,13,'apply',1795414592149755);
INSERT INTO "history" VALUES(14,14,'apply',1795414592150083);
INSERT INTO "history" VALUES(15,14,'undo',1795414592150429);
INSERT INTO "history" VALUES(16,13,'undo',1795414592150822);
INSERT INTO "history" VALUES(17,13,'redo',1795414592151143);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO "meta" VALUES('schema_version','1');
INSERT INTO "meta" VALUES('created_us','1795414592135987');
INSERT INTO "meta" VALUES('next_track','78');
INSERT INTO "meta" VALUES('next_seq','11');
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE INDEX annotations_frame ON annotations (frame, seq);
CREATE INDEX annotations_track ON annotations (track_id, frame);
CREATE INDEX commands_state ON commands (state, id);
COMMIT;
