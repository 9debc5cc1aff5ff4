"""Models of the knowledge domain: snippets (municipality, topic) and the page tree."""

from knowledge.models.mixins import KnowledgePage
from knowledge.models.page_cache import PageCacheGeneration
from knowledge.models.pages import (
    KNOWLEDGE_PAGE_MODELS,
    BestPracticeIndexPage,
    BestPracticePage,
    HomePage,
    LessonLearnedIndexPage,
    LessonLearnedPage,
    ProjectIndexPage,
    ProjectPage,
    SessionProtocolPage,
)
from knowledge.models.roadmap import RoadmapPage
from knowledge.models.snippets import Municipality, MunicipalityMember, Topic

__all__ = [
    "KNOWLEDGE_PAGE_MODELS",
    "BestPracticeIndexPage",
    "BestPracticePage",
    "HomePage",
    "KnowledgePage",
    "LessonLearnedIndexPage",
    "LessonLearnedPage",
    "Municipality",
    "MunicipalityMember",
    "PageCacheGeneration",
    "ProjectIndexPage",
    "ProjectPage",
    "RoadmapPage",
    "SessionProtocolPage",
    "Topic",
]
