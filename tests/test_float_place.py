"""Where the cameras' floating window goes (fusionlabel.app.float_place, Qt-free): beside the
main window when its screen has room, else where it covers least of the timeline, the object list
and the bars, then of the views; a remembered place is kept only while it is on a screen."""

from __future__ import annotations

from fusionlabel.app.float_place import beside_main, on_a_screen, overlap

SCREEN = (0, 0, 1920, 1080)


def inside(rect, screen) -> bool:
    return (screen[0] <= rect[0] and rect[0] + rect[2] <= screen[0] + screen[2]
            and screen[1] <= rect[1] and rect[1] + rect[3] <= screen[1] + screen[3])


def test_with_room_it_goes_beside_the_main_window_without_covering_it():
    main = (0, 0, 1100, 900)
    placed = beside_main(main, (700, 400), SCREEN, (0, 30, 900, 700))
    assert overlap(placed, main) == 0 and inside(placed, SCREEN) and placed[2:] == (700, 400)
    assert placed[0] == 1100 and placed[1] == 0          # to its right, level with its top
    # the main window on the right of the screen: to its left
    main = (800, 100, 1120, 900)
    placed = beside_main(main, (700, 400), SCREEN, (800, 130, 900, 700))
    assert overlap(placed, main) == 0 and inside(placed, SCREEN) and placed[0] + placed[2] == 800
    # the main window along the top: below it
    main = (0, 0, 1920, 600)
    placed = beside_main(main, (1200, 400), SCREEN, (0, 30, 1600, 500))
    assert overlap(placed, main) == 0 and inside(placed, SCREEN) and placed[1] == 600


def test_a_little_short_of_room_it_is_shrunk_to_fit_beside():
    main = (0, 0, 1150, 850)                             # 230 px free below, 770 on the right
    placed = beside_main(main, (1625, 311), SCREEN, (0, 20, 860, 560))
    assert overlap(placed, main) == 0 and inside(placed, SCREEN)
    assert placed[1] == 850 and placed[3] == 230         # below, as high as the room there ...
    assert abs(placed[2] / placed[3] - 1625 / 311) < 0.02   # ... its shape kept
    # too little room on every side (less than MIN_SCALE of it): not shrunk, at the edge
    placed = beside_main((0, 0, 1700, 1000), (1625, 311), SCREEN, (0, 20, 1300, 700))
    assert placed[2:] == (1625, 311) and placed[1] + placed[3] == 1080


def test_on_a_second_screen_it_stays_on_the_main_window_s_screen():
    right = (1920, 0, 1920, 1080)
    main = (1920, 0, 1000, 800)
    placed = beside_main(main, (800, 400), right, (1920, 30, 800, 700))
    assert inside(placed, right) and overlap(placed, main) == 0


def test_without_room_it_takes_the_screen_edge_that_covers_least_of_the_views():
    main = SCREEN                                        # the main window fills the screen
    views = (0, 30, 1500, 980)                           # the object list on the right, 420 px
    placed = beside_main(main, (400, 300), SCREEN, views)
    assert inside(placed, SCREEN)
    assert overlap(placed, views) == 0 and placed[0] + placed[2] == 1920   # over the object list
    # wider than the room beside the views: the least of them covered, at an edge
    placed = beside_main(main, (1920, 350), SCREEN, (0, 30, 1500, 900))
    assert inside(placed, SCREEN) and placed[1] + placed[3] == 1080       # along the bottom, under the views
    assert overlap(placed, (0, 30, 1500, 900)) == 1500 * (930 - 730)
    # larger than the screen: shrunk to it
    assert beside_main(main, (2500, 1500), SCREEN, views) == SCREEN


def test_without_room_beside_it_keeps_the_timeline_and_the_object_list_in_sight():
    """The review's case: a 1600 × 1000 main window on a 1920 × 1080 screen (320 px free on its
    right, 80 below) and the cameras as wide as the views (the rectangles the app measured under
    Xvfb). They go over the bottom of the views, just above the timeline, where they were docked,
    and cover none of the timeline, the object list, the status bar or the menu bar."""
    main = (0, 0, 1600, 1000)
    views = (2, 21, 1305, 880)
    timeline, objects = (2, 903, 1305, 69), (1315, 19, 285, 955)
    bars = [(0, 974, 1600, 26), (0, 0, 1600, 19)]
    keep = [timeline, objects, *bars]
    placed = beside_main(main, (1305, 267), SCREEN, views, keep)
    assert inside(placed, SCREEN) and placed[2:] == (1305, 267)
    assert all(overlap(placed, k) == 0 for k in keep), placed
    assert inside(placed, views) and placed[1] + placed[3] == timeline[1] - 2   # right above the timeline
    # narrower than the views: over their right-hand side (the 3D and side views), the
    # bird's-eye view on the left left alone
    placed = beside_main(main, (600, 300), SCREEN, views, keep)
    assert inside(placed, views) and placed[0] + placed[2] == views[0] + views[2]
    assert all(overlap(placed, k) == 0 for k in keep)
    # wider than the views: as little of the object list as it can, none of the timeline
    placed = beside_main(main, (1500, 267), SCREEN, views, keep)
    assert overlap(placed, timeline) == 0 and inside(placed, SCREEN)
    assert overlap(placed, objects) == min(overlap((x, placed[1], 1500, 267), objects) for x in range(0, 421))
    # the same window with nothing to keep in sight: under the views, over the timeline, as before
    placed = beside_main(main, (1305, 267), SCREEN, views)
    assert placed[1] + placed[3] == 1080 and overlap(placed, timeline) > 0


def test_a_remembered_place_counts_only_while_it_is_on_a_screen():
    screens = [SCREEN]
    assert on_a_screen((1200, 300, 700, 400), screens)
    assert not on_a_screen((2100, 300, 700, 400), screens)       # the second monitor is gone
    assert not on_a_screen((1700, 300, 700, 400), screens)       # mostly off the screen
    assert not on_a_screen((100, -200, 700, 400), screens)       # its title bar above the screen
    assert on_a_screen((2100, 300, 700, 400), screens + [(1920, 0, 1920, 1080)])
    assert not on_a_screen((0, 0, 0, 0), screens)
