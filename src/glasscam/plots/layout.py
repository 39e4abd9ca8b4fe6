"""Figure heights fitted to their content: a figure of fixed size whose panels keep their
aspect (images, equal-aspect particle renders) leaves the unused height as blank bands above
and below the panels; :func:`fit_height` takes it out."""

from __future__ import annotations

FIT_PAD = 0.08  # inches kept between the title (or legend) and the panels, beyond the layout's own padding


def _content(fig, renderer) -> tuple[float, float, float, float]:
    """(top of the panels, bottom of the panels, bottom of the suptitle, top of the figure
    legends), inches from the figure's bottom; each Axes with its title, labels and colour bar."""
    boxes = [ax.get_tightbbox(renderer) for ax in fig.axes if ax.get_visible()]
    boxes = [b for b in boxes if b is not None]
    top, bottom = max(b.y1 for b in boxes) / fig.dpi, min(b.y0 for b in boxes) / fig.dpi
    title = fig._suptitle
    ceiling = (title.get_window_extent(renderer).y0 / fig.dpi if title is not None and title.get_text() and title.get_in_layout()
               else fig.get_figheight())
    legends = [legend.get_window_extent(renderer).y1 / fig.dpi for legend in fig.legends]
    floor = max(legends) if legends else 0.0
    return top, bottom, ceiling, floor


def slack(fig) -> float:
    """Blank height (inches) above and below the panels beyond :data:`FIT_PAD` each side."""
    fig.canvas.draw()
    top, bottom, ceiling, floor = _content(fig, fig.canvas.get_renderer())
    return max(0.0, ceiling - top - FIT_PAD) + max(0.0, bottom - floor - FIT_PAD)


def fit_height(fig, iterations: int = 4) -> float:
    """Shrink ``fig`` (a constrained layout) by the blank height above and below its panels
    (:func:`slack`), as long as shrinking removes blank space rather than panel height; call it
    after the suptitle and figure legends are set and before :func:`~glasscam.plots.chance.chance_banner`.
    Returns the height removed (inches)."""
    start = fig.get_figheight()
    blank = slack(fig)
    for _ in range(iterations):
        if blank < 0.02:
            break
        height = fig.get_figheight()
        fig.set_figheight(height - blank)
        after = slack(fig)
        if after > 0.5 * blank:  # the panels shrank instead of the blank bands: undo and stop
            fig.set_figheight(height)
            fig.canvas.draw()
            break
        blank = after
    return start - fig.get_figheight()
